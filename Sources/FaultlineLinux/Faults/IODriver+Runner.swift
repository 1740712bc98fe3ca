import FaultlineCore

/// Expanded by naming it after the run and the fault (`TaggedWork`).
extension IODriver: FaultDriver {
    /// Before anything is injected: the folder is there and not on the agent's state
    /// filesystem (unless allowed).
    public func preflight(_ spec: IOFault, _ agents: AgentCalls) -> Preflight<IOFault> {
        let (answer, problem) = FolderAnswer.ask(
            agents, spec.host, spec.path, allowStateFilesystem: spec.allowStateFilesystem, verb: "load")
        return Preflight(spec: spec, problem: answer == nil ? problem : nil)
    }
}
