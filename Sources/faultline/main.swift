import FaultlineCLI
FaultlineCommand.main()
