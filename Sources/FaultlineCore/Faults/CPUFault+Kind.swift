import Yams

extension CPUFault: FaultKindReader, CgroupLimitable {
    public static let summary =
        "CPU pressure on a host: 'workers' processes each busy 'load' of every 100 ms (faultline's own, children of the agent), confirmed by the CPU they use; or with 'process', 'max' (cpu.max, a share of one CPU per 100 ms) on that process's cgroup, restored on revert, measured by the cgroup's throttled periods"
    public static let fields = ["host", "workers", "load"] + CgroupLimit.keys.filter { $0 != "host" } + ["max"]
    public static let holding = FaultHolding.held(durationRequired: false)

    static func read(_ node: Node, path: String, reader r: NodeReader) -> CPUFault? {
        guard let f = r.fields(node, path: path, allowed: fields) else { return nil }
        CgroupLimit.refuseMixed(f, limitKeys: ["max"], workerKeys: ["workers", "load"], kind: "cpu", reader: r)
        if f.values["process"] != nil {
            guard let target = CgroupLimit.target(f, kind: "cpu", reader: r) else { return nil }
            guard let share = r.percent(f, "max", required: true) else { return nil }
            // Whole microseconds of a 100 ms period, at least the kernel's 1 ms minimum quota.
            let quota = UInt64((share * 100_000).rounded())
            guard quota >= 1_000 else {
                r.error(f.values["max"], "'\(f.child("max"))' must be at least 1% (the kernel's smallest quota is 1 ms per period)")
                return nil
            }
            return CPUFault(host: target.host, limit: CgroupLimit(process: target, settings: [.cpuMax(quota: quota, period: 100_000)]))
        }
        var c = CPUFault()
        c.host = r.string(f, "host") ?? "local"
        c.workers = r.int(f, "workers", range: 1...256) ?? 1
        c.load = r.percent(f, "load") ?? 1
        if c.load <= 0 { r.error(f.values["load"], "'\(f.child("load"))' must be more than 0%") }
        return c
    }

    public var target: String {
        limit.map { "\($0.description) on \($0.process.selector)" }
            ?? "\(workers) worker\(workers == 1 ? "" : "s") at \(PercentText.format(load))"
    }

    public func describe(_ step: FaultStep, _ hosts: HostSet) -> String {
        guard let limit else { return "cpu on \(host): \(target) [\(step.name)]" }
        return describeLimit(limit, step)
    }
    public func describeRevert(_ step: FaultStep) -> String {
        limit == nil ? "end the CPU workers of '\(step.name)'" : "restore the CPU limit '\(step.name)' set"
    }
}
