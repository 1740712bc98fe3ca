import Yams

/// The limit form the `cpu` and `memory` kinds share: `process:` (with `host`, `count`, `all`)
/// names whose cgroup; the kind reads its own limit keys.
extension CgroupLimit {
    /// The keys of the form besides each kind's limits.
    static let keys = ProcessTarget.keys

    /// The target of the form, on one host (or a role); a list of hosts is refused: each host's
    /// cgroups are its own, so each needs its own fault.
    static func target(_ f: Fields, kind: String, reader r: NodeReader) -> ProcessTarget? {
        guard let t = ProcessTarget.read(f, reader: r) else { return nil }
        if t.fanOut != nil {
            r.error(f.values["host"], "'\(f.child("host"))': a \(kind) limit acts on one host's cgroups; write one fault per host")
            return nil
        }
        return t
    }

    /// A size limit from 1 MiB to 1 TiB.
    static func size(_ f: Fields, _ key: String, reader r: NodeReader) -> UInt64? {
        guard let text = r.string(f, key) else { return nil }
        guard let bytes = ByteSizeText.parse(text), bytes >= 1 << 20, bytes <= 1 << 40 else {
            r.error(f.values[key], "'\(f.child(key))' must be a size from 1MiB to 1TiB like '64MiB' or '2GiB', got \(shown: text)")
            return nil
        }
        return bytes
    }

    /// Keys of one form written in the other, each refused by name.
    static func refuseMixed(_ f: Fields, limitKeys: [String], workerKeys: [String], kind: String, reader r: NodeReader) {
        if f.values["process"] != nil {
            for k in workerKeys where f.values[k] != nil {
                r.error(
                    f.keys[k],
                    "'\(f.child(k))' is for \(kind) workers on a host; with 'process' the fault limits that process's cgroup (\(limitKeys.map { "'\($0)'" }.joined(separator: ", ")))"
                )
            }
        } else {
            for k in limitKeys + ["count", "all", "blast_radius"] where f.values[k] != nil {
                r.error(f.keys[k], "'\(f.child(k))' is for a limit on a process's cgroup: it needs 'process' (whose cgroup)")
            }
        }
    }

    var exclusion: FaultExclusion {
        FaultExclusion(
            key: "cgroup \(process.host) \(process.selector) \(settings.map(\.controller.rawValue).sorted().joined(separator: ","))",
            what: "a limit on the same processes' cgroup (\(process.selector) on \(shown: process.host))")
    }

    var whereText: String { "the cgroup of \(process.selector) on \(process.whereText)" }
}

/// A resource kind with a limit form (`cpu`, `memory`, `io`): on one host, or on the host of the
/// processes whose cgroup it limits. What follows from that is said here once.
public protocol CgroupLimitable: FaultKind {
    var host: String { get set }
    var limit: CgroupLimit? { get set }
}

extension CgroupLimitable {
    public var exclusion: FaultExclusion? { limit?.exclusion }
    public var role: RoleTarget? { limit?.process.role }
    public var processes: ProcessTarget? { limit?.process }
    public func hosts(in hosts: HostSet) -> [String] { limit?.process.hosts(in: hosts) ?? [host] }
    public func onHost(_ host: String) -> Self {
        var c = self
        c.host = host
        c.limit?.process.host = host
        // Bound: a fault on that host, as if written so (the guard and the plan read it so).
        c.limit?.process.role = nil
        return c
    }
    /// A host under resource pressure is slowed (until the kernel kills something), not taken.
    public func impact(in hosts: HostSet) -> FaultImpact { .degraded(self.hosts(in: hosts)) }
    public func validate(_ step: FaultStep, _ v: FaultValidation) {
        if let limit { limit.process.validate(v, key: Self.key) } else { v.knownHost(host, at: "\(v.path).\(Self.key).host") }
    }
    /// The plan's line for the limit form.
    func describeLimit(_ limit: CgroupLimit, _ step: FaultStep) -> String {
        "\(Self.key): \(limit.description) on \(limit.whereText) [\(step.name)]"
    }
}
