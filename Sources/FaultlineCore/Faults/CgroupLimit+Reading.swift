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
