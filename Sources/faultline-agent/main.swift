import FaultlineAgent
import Glibc

// The program copied to SSH hosts: the agent and recovery alone, linked with Foundation's
// essentials only (no ICU, no curl, no YAML reader), so that a fleet gets a few megabytes.
exit(AgentCommand.run(Array(CommandLine.arguments.dropFirst())))
