import Yams

extension MemoryFault: FaultKindReader, CgroupLimitable {
    public static let summary =
        "memory pressure on a host: a worker (faultline's own, a child of the agent) allocates 'allocate' and touches every page, confirmed by its resident size; or with 'process', 'max' (memory.max) / 'high' (memory.high) on that process's cgroup, restored on revert, measured by the cgroup's own events (limit hit, OOM kills)"
    public static let fields = ["host", "allocate"] + CgroupLimit.keys.filter { $0 != "host" } + ["max", "high"]
    public static let holding = FaultHolding.held(durationRequired: false)
    /// A process the kernel kills at its limit can be replaced (`healed`).
    public static let replacesProcesses = true

    static func read(_ node: Node, path: String, reader r: NodeReader) -> MemoryFault? {
        guard let f = r.fields(node, path: path, allowed: fields) else { return nil }
        CgroupLimit.refuseMixed(f, limitKeys: ["max", "high"], workerKeys: ["allocate"], kind: "memory", reader: r)
        if f.values["process"] != nil {
            guard let target = CgroupLimit.target(f, kind: "memory", reader: r) else { return nil }
            var settings: [CgroupSetting] = []
            if let m = CgroupLimit.size(f, "max", reader: r) { settings.append(.memoryMax(m)) }
            if let h = CgroupLimit.size(f, "high", reader: r) { settings.append(.memoryHigh(h)) }
            guard !settings.isEmpty else {
                if f.values["max"] == nil, f.values["high"] == nil {
                    r.error(node, "'\(path)' with 'process' needs 'max' (memory.max) or 'high' (memory.high): the limit its cgroup gets")
                }
                return nil
            }
            return MemoryFault(host: target.host, bytes: 0, limit: CgroupLimit(process: target, settings: settings))
        }
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

    public var target: String { limit.map { "\($0.description) on \($0.process.selector)" } ?? ByteSizeText.format(bytes) }
    /// What the kernel kills at the limit, looked for again by `healed`.
    public var replaceable: ProcessSelector? { limit?.process.selector }

    public func describe(_ step: FaultStep, _ hosts: HostSet) -> String {
        guard let limit else { return "memory on \(host): allocate and touch \(target) [\(step.name)]" }
        return describeLimit(limit, step)
    }
    public func describeRevert(_ step: FaultStep) -> String {
        limit == nil ? "end the memory worker of '\(step.name)'" : "restore the memory limits '\(step.name)' set"
    }
}
