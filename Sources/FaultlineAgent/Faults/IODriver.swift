import FaultlineEssentials
import Glibc

extension IOFault: TaggedWork {}

/// Starts `workers` IO workers, each rewriting its own file with fsync; revert ends them and
/// removes the files. Confirmed by the bytes they write; measured as the rate they wrote at,
/// beside the host's IO pressure. The limit form sets the target cgroup's `io.max` instead
/// (`CgroupLimits`).
public struct IODriver: FaultEffect {
    public init() {}

    public func prepare(_ work: IOFault) throws(FaultError) -> Injection {
        if let limit = work.limit { return try CgroupLimits.prepare(limit) }
        try Workers.requireFresh(tag: work.tag, kind: "io")
        try Workers.requireFolder(work.path, allowStateFilesystem: work.allowStateFilesystem, verb: "load")
        // Files first, workers last: undo runs in reverse, so the workers end before their files go.
        let undo = (0..<work.workers).map { UndoStep.removeFile(work.file($0)) } + [.endWorkers(tag: work.tag)]
        var i = Injection(undo: undo, summary: "\(work.workers) IO worker\(work.workers == 1 ? "" : "s") in \(work.path)")
        i.baseline["pressure"] = Workers.pressure("io") ?? -1
        return i
    }

    public func apply(_ work: IOFault, _ injection: Injection) throws(FaultError) {
        if work.limit != nil { return try CgroupLimits.apply(injection) }
        for i in 0..<work.workers {
            _ = try Workers.start(Self.worker, tag: work.tag, count: 1, ["--file", work.file(i)])
        }
        IODriver.started.mutate { $0[work.tag] = MonotonicClock.now() }
    }

    /// Every worker has written and synced at least 1 MiB (its file's size, polled), and runs.
    public func confirm(_ work: IOFault, _ injection: Injection, deadline: Int64) -> Confirmation {
        if work.limit != nil { return CgroupLimits.confirm(injection, deadline: deadline) }
        while true {
            let now = MonotonicClock.now()
            let written = (0..<work.workers).map { Self.size(work.file($0)) }
            let done = written.allSatisfy { $0 >= 1 << 20 }
            if done || now > deadline {
                // One look through /proc, once the files say whether they are written.
                let running = Workers.find(tag: work.tag).count
                if done, running == work.workers {
                    return Confirmation(
                        ok: true, detail: "\(work.workers) workers writing (\(ByteSizeText.format(written.reduce(0, +))) so far)", at: now)
                }
                return Confirmation(
                    ok: false, detail: "\(running) of \(work.workers) workers running, \(written.filter { $0 >= 1 << 20 }.count) writing",
                    at: nil)
            }
            usleep(5_000)
        }
    }

    /// The rate the workers wrote at (their processes' write_bytes over the hold) and IO pressure.
    public func measure(_ work: IOFault, _ injection: Injection) -> String? {
        if let limit = work.limit { return CgroupLimits.measure(limit, injection) }
        guard let started = IODriver.started.value[work.tag] else { return nil }
        let seconds = Double(MonotonicClock.now() - started) / 1e9
        let bytes = Workers.find(tag: work.tag).compactMap { Self.writeBytes($0.pid) }.reduce(0, +)
        let rate = Double(bytes) / max(seconds, 0.001)
        let before = injection.baseline["pressure"].flatMap { $0 >= 0 ? $0 : nil }
        let pressure = Workers.pressure("io").map {
            "; IO pressure (some, avg10) \(before.map { FixedText.format($0, 1) } ?? "-")% before, \(FixedText.format($0, 1))% now"
        }
        return "\(work.workers) writers: \(ByteSizeText.format(UInt64(rate)))/s written and synced over \(FixedText.format(seconds, 1)) s"
            + (pressure ?? "")
    }

    static func size(_ path: String) -> UInt64 {
        var st = stat()
        return stat(path, &st) == 0 ? UInt64(st.st_size) : 0
    }

    /// `write_bytes` of /proc/PID/io: what the process caused to be written to storage.
    static func writeBytes(_ pid: Int32) -> UInt64? {
        guard let text = ProcFS.read("/proc/\(pid)/io"),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("write_bytes:") })
        else {
            return nil
        }
        return UInt64(line.dropFirst(12).trimmingPrefix(" "))
    }

    static let started = Locked([String: Int64]())
}

extension IODriver: WorkerBody {
    package static let worker = "io"

    /// Rewrites `--file` from its start in 1 MiB writes up to 64 MiB, fsync after each.
    package static func work(_ values: [String: String], parent: Int32) -> Int32 {
        guard let path = values["--file"], UndoStep.isFillFile(path) else { return ExitCode.badInput }
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return 70 }
        let chunk = [UInt8](repeating: 0xA5, count: 1 << 20)
        var offset: off_t = 0
        while getppid() == parent {
            let n = chunk.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, offset) }
            if n <= 0 { usleep(10_000) } else { offset = (offset + off_t(n)) % (64 << 20) }
            fsync(fd)
        }
        close(fd)
        unlink(path)
        return 0
    }
}
