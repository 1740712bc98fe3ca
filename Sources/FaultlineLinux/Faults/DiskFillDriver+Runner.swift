import FaultlineCore

/// The runner names what the fault creates after the run and the fault (`faultline_<run>_<index>`),
/// so the ledger's undo can name it before it exists.
extension DiskFillDriver: FaultDriver {
    public func expand(_ spec: DiskFillFault, _ context: ExpansionContext) throws(FaultError) -> [DiskFillFault] {
        var w = spec
        w.tag = OwnedNames.table(runId: context.runId, faultIndex: context.faultIndex)
        return [w]
    }

    /// Before anything is injected: the folder is there, not on the agent's state filesystem
    /// (unless allowed), and holds more free space than is to be left.
    public func preflight(_ spec: DiskFillFault, _ agents: AgentCalls) -> Preflight<DiskFillFault> {
        guard let f = FolderAnswer(agents.call(spec.host, .capability("folder \(spec.path)"))?.detail) else {
            return Preflight(spec: spec, problem: "could not ask host '\(spec.host)' about \(spec.path)")
        }
        if let why = f.problem { return Preflight(spec: spec, problem: "on '\(spec.host)': \(why)") }
        if f.stateFilesystem, !spec.allowStateFilesystem {
            return Preflight(
                spec: spec,
                problem:
                    "on '\(spec.host)': \(spec.path) is on the filesystem of the agent's state directory (its ledger): say 'allow_state_filesystem: true' to fill it anyway"
            )
        }
        let leave: UInt64
        switch spec.leave {
        case .bytes(let b): leave = b
        case .share(let p): leave = UInt64(p * Double(f.size))
        }
        guard f.free > leave else {
            return Preflight(
                spec: spec,
                problem:
                    "on '\(spec.host)': \(spec.path) has \(ByteSizeText.format(f.free)) free already, not more than the \(ByteSizeText.format(leave)) to leave"
            )
        }
        return Preflight(spec: spec, note: "fills \(ByteSizeText.format(f.free - leave)) of \(ByteSizeText.format(f.size)) now")
    }
}
