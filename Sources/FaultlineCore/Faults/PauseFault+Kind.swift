import Yams

extension PauseFault: FaultKindReader {
    public static let summary = "SIGSTOP processes for 'duration'; SIGCONT on revert; confirmed by state T"

    public static let fields = ProcessTarget.keys

    public static let holding = FaultHolding.held(durationRequired: true)

    static func read(_ node: Node, path: String, reader r: NodeReader) -> PauseFault? {
        guard let f = r.fields(node, path: path, allowed: fields) else { return nil }
        return ProcessTarget.read(f, reader: r).map(PauseFault.init)
    }

    public var target: String { process.selector.description }

    public var role: RoleTarget? { process.role }

    public var processes: ProcessTarget? { process }

    public var exclusion: FaultExclusion? { process.exclusion }

    public func hosts(in hosts: HostSet) -> [String] { process.hosts(in: hosts) }

    public func onHost(_ host: String) -> PauseFault {
        var p = self
        p.process.host = host
        // Bound: a fault on that host, as if written so (the guard and the plan read it so).
        p.process.role = nil
        return p
    }

    public func validate(_ step: FaultStep, _ v: FaultValidation) {
        process.validate(v, key: Self.key)
        if step.duration == nil, !v.wasWritten("\(v.path).duration") {
            v.error(at: v.path, "fault '\(v.path)' (pause) needs 'duration': how long the process stays stopped")
        }
    }

    public func describe(_ step: FaultStep, _ hosts: HostSet) -> String {
        "pause \(process.selector) on \(process.whereText) for \(DurationText.format(step.duration ?? 0)) [\(step.name)]"
    }

    public func describeRevert(_ step: FaultStep) -> String { "continue (SIGCONT) what '\(step.name)' paused" }
}
