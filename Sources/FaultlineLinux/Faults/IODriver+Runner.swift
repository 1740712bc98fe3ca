import FaultlineCore

/// The runner names what the fault creates after the run and the fault (`faultline_<run>_<index>`),
/// so the ledger's undo can name it before it exists.
extension IODriver: FaultDriver {
    public func expand(_ spec: IOFault, _ context: ExpansionContext) throws(FaultError) -> [IOFault] {
        var w = spec
        w.tag = OwnedNames.table(runId: context.runId, faultIndex: context.faultIndex)
        return [w]
    }

    /// Before anything is injected: the folder is there and not on the agent's state
    /// filesystem (unless allowed).
    public func preflight(_ spec: IOFault, _ agents: AgentCalls) -> Preflight<IOFault> {
        guard let f = FolderAnswer(agents.call(spec.host, .capability("folder \(spec.path)"))?.detail) else {
            return Preflight(spec: spec, problem: "could not ask host '\(spec.host)' about \(spec.path)")
        }
        if let why = f.problem { return Preflight(spec: spec, problem: "on '\(spec.host)': \(why)") }
        if f.stateFilesystem, !spec.allowStateFilesystem {
            return Preflight(
                spec: spec,
                problem:
                    "on '\(spec.host)': \(spec.path) is on the filesystem of the agent's state directory (its ledger): say 'allow_state_filesystem: true' to load it anyway"
            )
        }
        return Preflight(spec: spec)
    }
}
