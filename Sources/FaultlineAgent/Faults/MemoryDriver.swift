import FaultlineEssentials
import Glibc

extension MemoryFault: TaggedWork {}

/// Starts a worker that allocates and touches `bytes`; revert ends it. Confirmed by its resident
/// size; measured with the host's available memory before and now. The limit form sets the
/// target cgroup's limits instead (`CgroupLimits`).
public struct MemoryDriver: FaultEffect {
    public init() {}

    public func prepare(_ work: MemoryFault) throws(FaultError) -> Injection {
        if let limit = work.limit { return try CgroupLimits.prepare(limit) }
        try Workers.requireFresh(tag: work.tag, kind: "memory")
        var i = Injection(undo: [.endWorkers(tag: work.tag)], summary: "a worker holding \(ByteSizeText.format(work.bytes))")
        i.baseline["available"] = Workers.memAvailable().map { Double($0) } ?? -1
        i.baseline["pressure"] = Workers.pressure("memory") ?? -1
        return i
    }

    public func apply(_ work: MemoryFault, _ injection: Injection) throws(FaultError) {
        if work.limit != nil { return try CgroupLimits.apply(injection) }
        _ = try Workers.start(Self.worker, tag: work.tag, count: 1, ["--bytes", "\(work.bytes)"])
    }

    /// Resident at 90 % of what was asked (touching 1 GiB takes a while: until the deadline).
    public func confirm(_ work: MemoryFault, _ injection: Injection, deadline: Int64) -> Confirmation {
        if work.limit != nil { return CgroupLimits.confirm(injection, deadline: deadline) }
        // One look through /proc for the worker; then only its status is read.
        guard let worker = Workers.find(tag: work.tag).first else {
            return Confirmation(
                ok: false, detail: "the worker is gone (killed for memory?), not 90% of \(ByteSizeText.format(work.bytes))", at: nil)
        }
        while true {
            let now = MonotonicClock.now()
            guard ProcFS.isAlive(worker) else {
                return Confirmation(
                    ok: false, detail: "the worker is gone (killed for memory?), not 90% of \(ByteSizeText.format(work.bytes))", at: nil)
            }
            let rss = Workers.residentBytes(worker.pid) ?? 0
            if Double(rss) >= 0.9 * Double(work.bytes) {
                return Confirmation(ok: true, detail: "\(ByteSizeText.format(rss)) resident in \(worker)", at: now)
            }
            if now > deadline {
                return Confirmation(
                    ok: false, detail: "\(ByteSizeText.format(rss)) resident, not 90% of \(ByteSizeText.format(work.bytes))", at: nil)
            }
            usleep(5_000)
        }
    }

    public func measure(_ work: MemoryFault, _ injection: Injection) -> String? {
        if let limit = work.limit { return CgroupLimits.measure(limit, injection) }
        let rss = Workers.find(tag: work.tag).first.flatMap { Workers.residentBytes($0.pid) }
        let before = injection.baseline["available"].flatMap { $0 >= 0 ? UInt64($0) : nil }
        var out = "\(ByteSizeText.format(work.bytes)) asked: \(rss.map(ByteSizeText.format) ?? "no worker") resident"
        if let b = before, let now = Workers.memAvailable() {
            out += "; available memory \(ByteSizeText.format(b)) before, \(ByteSizeText.format(now)) now"
        }
        if let p = Workers.pressure("memory") { out += "; memory pressure (some, avg10) \(FixedText.format(p, 1))%" }
        return out
    }
}

extension MemoryDriver: WorkerBody {
    package static let worker = "memory"

    package static func work(_ values: [String: String], parent: Int32) -> Int32 {
        guard let bytes = values["--bytes"].flatMap({ UInt64($0) }), bytes > 0 else { return ExitCode.badInput }
        hold(bytes: bytes, parent: parent)
    }

    /// Allocates `bytes`, writes every page so each is resident, and holds them until `parent`
    /// is no longer its parent.
    static func hold(bytes: UInt64, parent: Int32) -> Never {
        let size = Int(bytes)
        guard let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else { exit(70) }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let bytesPointer = p.bindMemory(to: UInt8.self, capacity: size)
        var i = 0
        while i < size {
            bytesPointer[i] = 1
            i += page
        }
        while getppid() == parent { usleep(100_000) }
        exit(0)
    }
}
