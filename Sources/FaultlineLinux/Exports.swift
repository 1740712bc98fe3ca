// The runner's module carries the agent's: what a host runs is part of what a run uses.
@_exported import FaultlineAgent
