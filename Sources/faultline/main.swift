import FaultlineCLI

FaultlineCommand.prepare(CommandLine.arguments)
FaultlineCommand.start()
