import Yams

extension MemoryFault: FaultKindReader {
    public static let summary =
        "memory pressure on a host: a worker (faultline's own, a child of the agent) allocates 'allocate' and touches every page; confirmed by its resident size, measured with the host's available memory"
    public static let fields = ["host", "allocate"]
    public static let holding = FaultHolding.held(durationRequired: false)

    static func read(_ node: Node, path: String, reader r: NodeReader) -> MemoryFault? {
        guard let f = r.fields(node, path: path, allowed: fields) else { return nil }
        let host = r.string(f, "host") ?? "local"
        guard let text = r.string(f, "allocate", required: true) else { return nil }
        guard let bytes = ByteSizeText.parse(text), bytes >= 1 << 20, bytes <= 1 << 40 else {
            r.error(
                f.values["allocate"],
                "'\(f.child("allocate"))' must be a size from 1MiB to 1TiB like '512MiB' or '2GiB', got \(shown: text)")
            return nil
        }
        return MemoryFault(host: host, bytes: bytes)
    }

    public var target: String { ByteSizeText.format(bytes) }
    public var exclusion: FaultExclusion? { nil }
    public func hosts(in hosts: HostSet) -> [String] { [host] }
    /// A host under memory pressure is slowed (until the kernel kills something), not taken.
    public func impact(in hosts: HostSet) -> FaultImpact { .degraded([host]) }
    public func validate(_ step: FaultStep, _ v: FaultValidation) { v.knownHost(host, at: "\(v.path).\(Self.key).host") }

    public func describe(_ step: FaultStep, _ hosts: HostSet) -> String { "memory on \(host): allocate and touch \(target) [\(step.name)]" }
    public func describeRevert(_ step: FaultStep) -> String { "end the memory worker of '\(step.name)'" }
}
