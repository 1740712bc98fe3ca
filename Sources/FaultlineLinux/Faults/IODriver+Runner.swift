import FaultlineCore

/// Expanded by naming it after the run and the fault (`TaggedWork`).
extension IODriver: FaultDriver {
    /// Before anything is injected: the folder is there and not on the agent's state
    /// filesystem (unless allowed).
    public func preflight(_ spec: IOFault, _ agents: AgentCalls) -> Preflight<IOFault> {
        // The limit form writes nothing to the filesystem; its device is found on injection.
        if spec.limit != nil { return Preflight(spec: spec) }
        let (answer, problem) = FolderAnswer.ask(
            agents, spec.host, spec.path, allowStateFilesystem: spec.allowStateFilesystem, verb: "load")
        return Preflight(spec: spec, problem: answer == nil ? problem : nil)
    }
}
