import Yams

extension CPUFault: FaultKindReader {
    public static let summary =
        "CPU pressure on a host: 'workers' processes each busy 'load' of every 100 ms (faultline's own, children of the agent); confirmed by the CPU they use, measured with the host's CPU pressure"
    public static let fields = ["host", "workers", "load"]
    public static let holding = FaultHolding.held(durationRequired: false)

    static func read(_ node: Node, path: String, reader r: NodeReader) -> CPUFault? {
        guard let f = r.fields(node, path: path, allowed: fields) else { return nil }
        var c = CPUFault()
        c.host = r.string(f, "host") ?? "local"
        c.workers = r.int(f, "workers", range: 1...256) ?? 1
        c.load = r.percent(f, "load") ?? 1
        if c.load <= 0 { r.error(f.values["load"], "'\(f.child("load"))' must be more than 0%") }
        return c
    }

    public var target: String { "\(workers) worker\(workers == 1 ? "" : "s") at \(PercentText.format(load))" }
    public var exclusion: FaultExclusion? { nil }
    public func hosts(in hosts: HostSet) -> [String] { [host] }
    /// A host under CPU pressure is slowed, not taken.
    public func impact(in hosts: HostSet) -> FaultImpact { .degraded([host]) }
    public func validate(_ step: FaultStep, _ v: FaultValidation) { v.knownHost(host, at: "\(v.path).\(Self.key).host") }

    public func describe(_ step: FaultStep, _ hosts: HostSet) -> String { "cpu on \(host): \(target) [\(step.name)]" }
    public func describeRevert(_ step: FaultStep) -> String { "end the CPU workers of '\(step.name)'" }
}
