/// A limit on the cgroup of a target's processes — the `cpu` and `memory` kinds' second form
/// (`process:` with `max:` / `high:`): the cgroup's own limit files are set for the fault and
/// restored to their recorded values on revert. The processes keep running; what they feel is
/// the kernel's enforcement (throttling, reclaim, the OOM killer).
public struct CgroupLimit: Codable, Equatable, Sendable {
    /// Whose cgroup: every cgroup the selected processes are in gets the limit.
    public var process: ProcessTarget
    public var settings: [CgroupSetting]

    public init(process: ProcessTarget, settings: [CgroupSetting]) {
        self.process = process
        self.settings = settings
    }

    /// `memory.max 64 MiB`, for summaries and plans.
    public var description: String { settings.map(\.description).joined(separator: ", ") }
}

/// A cgroup controller a limit acts through (v1 names `io` `blkio`).
public enum CgroupController: String, Codable, Sendable, Comparable {
    case cpu, memory, io

    public static func < (a: CgroupController, b: CgroupController) -> Bool { a.rawValue < b.rawValue }
}

/// One limit, independent of the cgroup version; `files(v2:)` says what is written where.
public enum CgroupSetting: Codable, Equatable, Sendable, CustomStringConvertible {
    /// At most `quota` µs of CPU time in each `period` µs (v2 `cpu.max`; v1 CFS quota and period).
    case cpuMax(quota: UInt64, period: UInt64)
    /// The hard limit: past it the kernel reclaims, then kills (v2 `memory.max`; v1 `memory.limit_in_bytes`).
    case memoryMax(UInt64)
    /// The throttle: past it the kernel reclaims hard and slows the cgroup's allocations (v2 `memory.high` only).
    case memoryHigh(UInt64)
    /// Bytes and operations a second on the block device under `device` (a device node, or any
    /// path on a filesystem: its disk); nil keys keep what the cgroup had (v2 `io.max`; v1
    /// `blkio.throttle.*_device`).
    case ioMax(device: String, rbps: UInt64?, wbps: UInt64?, riops: UInt64?, wiops: UInt64?)

    public var controller: CgroupController {
        switch self {
        case .cpuMax: return .cpu
        case .memoryMax, .memoryHigh: return .memory
        case .ioMax: return .io
        }
    }

    /// The files to write, in order, and their values; nil when the version has no such limit.
    /// `io` needs the device's `MAJ:MIN` and, on v2, what `io.max` held for it (`old`).
    public func files(v2: Bool, device: String = "", old: String = "") -> [(file: String, value: String)]? {
        switch self {
        case .ioMax(_, let rbps, let wbps, let riops, let wiops):
            let asked: [(String, UInt64?)] = [("rbps", rbps), ("wbps", wbps), ("riops", riops), ("wiops", wiops)]
            if v2 {
                // Kept from what the cgroup had, each asked key replaced.
                var keys = ["rbps": "max", "wbps": "max", "riops": "max", "wiops": "max"]
                for word in old.split(separator: " ").dropFirst() {
                    let kv = word.split(separator: "=")
                    if kv.count == 2 { keys[String(kv[0])] = String(kv[1]) }
                }
                for (k, v) in asked { if let v { keys[k] = "\(v)" } }
                return [("io.max", "\(device) " + ["rbps", "wbps", "riops", "wiops"].map { "\($0)=\(keys[$0]!)" }.joined(separator: " "))]
            }
            let v1: [String: String] = [
                "rbps": "blkio.throttle.read_bps_device", "wbps": "blkio.throttle.write_bps_device",
                "riops": "blkio.throttle.read_iops_device", "wiops": "blkio.throttle.write_iops_device",
            ]
            return asked.compactMap { k, v in v.map { (v1[k]!, "\(device) \($0)") } }
        case .cpuMax(let q, let p):
            return v2 ? [("cpu.max", "\(q) \(p)")] : [("cpu.cfs_period_us", "\(p)"), ("cpu.cfs_quota_us", "\(q)")]
        case .memoryMax(let b): return [(v2 ? "memory.max" : "memory.limit_in_bytes", "\(b)")]
        case .memoryHigh(let b): return v2 ? [("memory.high", "\(b)")] : nil
        }
    }

    public var description: String {
        switch self {
        case .cpuMax(let q, let p): return "cpu.max \(PercentText.format(Double(q) / Double(p))) of a CPU"
        case .memoryMax(let b): return "memory.max \(ByteSizeText.format(b))"
        case .memoryHigh(let b): return "memory.high \(ByteSizeText.format(b))"
        case .ioMax(let d, let rbps, let wbps, let riops, let wiops):
            let parts = [
                rbps.map { "read \(ByteSizeText.format($0))/s" }, wbps.map { "write \(ByteSizeText.format($0))/s" },
                riops.map { "\($0) reads/s" }, wiops.map { "\($0) writes/s" },
            ].compactMap { $0 }
            return "io.max \(parts.joined(separator: ", ")) on the disk of \(d)"
        }
    }
}
