import FaultlineCore

/// Expanded by naming it after the run and the fault (`TaggedWork`).
extension DiskFillDriver: FaultDriver {
    /// Before anything is injected: the folder is there, not on the agent's state filesystem
    /// (unless allowed), and holds more free space than is to be left.
    public func preflight(_ spec: DiskFillFault, _ agents: AgentCalls) -> Preflight<DiskFillFault> {
        let (answer, problem) = FolderAnswer.ask(
            agents, spec.host, spec.path, allowStateFilesystem: spec.allowStateFilesystem, verb: "fill")
        guard let f = answer else { return Preflight(spec: spec, problem: problem) }
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
