import Dispatch
import FaultlineEssentials
import FoundationEssentials
import Glibc

/// Every process of the host with its stat and command line, read once for every selection
/// that asks at about the same time: the faults of one instant on one host each look for
/// their processes, and 32 scans of /proc would make the last one tens of milliseconds late.
/// A selection is given a table read after it asked, never an older one, so it sees the host
/// as it is when it fires.
enum ProcessTable {
    struct Entry: Sendable {
        var pid: Int32
        var stat: ProcFS.Stat
        /// The first argument (nil for a kernel thread or an empty command line).
        var argv0: String?
        /// The command line's arguments joined by spaces, in UTF-8 (invalid sequences repaired as
        /// a String would): what a `cmdline` pattern matches.
        var line: [UInt8]

        /// From the bytes of `/proc/PID/cmdline`: arguments ended by NULs (the last one may not
        /// be, when a process rewrote its title).
        init(pid: Int32, stat: ProcFS.Stat, cmdline raw: [UInt8]) {
            self.pid = pid
            self.stat = stat
            var bytes = raw
            if bytes.last == 0 { bytes.removeLast() }
            let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
            argv0 = bytes.isEmpty ? nil : String(decoding: bytes[..<end], as: UTF8.self)
            var ascii = true
            for i in bytes.indices {
                if bytes[i] == 0 { bytes[i] = 32 } else if bytes[i] >= 0x80 { ascii = false }
            }
            line = ascii ? bytes : Array(String(decoding: bytes, as: UTF8.self).utf8)
        }
    }

    /// The instant a selection is for (the go line of the faults of one instant on this host);
    /// nil: the moment it asks.
    @TaskLocal static var instant: Int64?

    private static let latest = Locked<(at: Int64, entries: [Entry])?>(nil)
    private static let reading = Lock()

    /// A table read at or after `asked` (monotonic ns): the last one if it is that recent, else
    /// a new one. Callers that ask while a table is being read wait for it and then read one
    /// more together, so a burst costs two scans, not one each.
    static func since(_ asked: Int64) -> [Entry] {
        reading.lock()
        defer { reading.unlock() }
        if let l = latest.value, l.at >= asked { return l.entries }
        let at = MonotonicClock.now()
        let pids = ProcFS.pids()
        let entries: [Entry]
        if pids.count >= Self.splitAt {
            // Two halves, by pid parity, each with its own kept descriptors: the odd ones on
            // the helper, the even ones here, on both cores at once.
            let odd = pids.filter { $0 & 1 == 1 }
            helper.run { oddHalf.scan(odd) }
            let even = evenHalf.scan(pids.filter { $0 & 1 == 0 })
            entries = even + helper.wait()
        } else {
            entries = evenHalf.scan(pids)
            // What the odd half kept from a split scan is evenHalf's now: closed there.
            _ = oddHalf.scan([])
        }
        latest.mutate { $0 = (at, entries) }
        return entries
    }

    /// Below this many processes (a lab host's few) a scan is not worth a hand-over.
    static let splitAt = 64

    /// Guarded by `reading` (the odd half: on the helper, between `run` and `wait`).
    nonisolated(unsafe) private static var evenHalf = Kept()
    nonisolated(unsafe) private static var oddHalf = Kept()
    private static let helper = ScanHelper()

    /// A thread that reads half of a scan while the caller reads the other: realtime as the
    /// faults' threads are (a normal-priority worker waits behind them, 200 ms once), started
    /// the first time a scan is split and then kept, idle on a semaphore.
    final class ScanHelper: @unchecked Sendable {
        private let go = DispatchSemaphore(value: 0)
        private let done = DispatchSemaphore(value: 0)
        private var job: (() -> [Entry])?
        private var result: [Entry] = []
        private let started = Locked(false)

        func run(_ work: @escaping () -> [Entry]) {
            job = work
            let first = started.mutate { s -> Bool in
                defer { s = true }
                return !s
            }
            if first {
                let t = PThread { [self] in
                    _ = promoteToRealtime(priority: 5)
                    while true {
                        go.wait()
                        result = self.job?() ?? []
                        self.job = nil
                        done.signal()
                    }
                }
                t.name = "faultline-scan"
                t.stackSize = 1 << 20
                t.start()
            }
            go.signal()
        }

        func wait() -> [Entry] {
            done.wait()
            defer { result = [] }
            return result
        }
    }

    /// Each process's stat and cmdline, kept open from one scan to the next: a scan then reads
    /// /proc's directory and two preads a process, where opening both files anew (a path
    /// walk through /proc each) cost four times as much — 2.0 ms against 1.2 for 110
    /// processes, which every fault of an instant on this host waited for. A descriptor stays bound to the
    /// process it was opened on: once that process has gone it reads ESRCH, whoever has its
    /// pid since, and is closed. At most a quarter of the descriptor limit is kept (two
    /// halves, two descriptors a process, a sixteenth of the limit in processes each); the
    /// processes beyond it are read the plain way.
    struct Kept {
        private var open: [Int32: (stat: Int32, cmdline: Int32)] = [:]
        private let limit: Int = {
            var l = rlimit()
            guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &l) == 0 else { return 0 }
            return Int(min(l.rlim_cur / 16, 4096))
        }()

        /// Reads `pids` (its half of /proc's listing), closing what it kept for any other.
        mutating func scan(_ pids: [Int32]) -> [Entry] {
            var entries: [Entry] = []
            entries.reserveCapacity(pids.count)
            var seen = Set<Int32>(minimumCapacity: pids.count)
            for pid in pids {
                seen.insert(pid)
                if let fds = open[pid] {
                    if let s = ProcFS.stat(descriptor: fds.stat),
                        let cmdline = s.kernelThread ? [] : ProcFS.cmdlineBytes(descriptor: fds.cmdline)
                    {
                        entries.append(Entry(pid: pid, stat: s, cmdline: cmdline))
                        continue
                    }
                    // Gone; its pid may be another process's now: opened anew below.
                    close(fds)
                    open[pid] = nil
                }
                if let e = opened(pid) { entries.append(e) }
            }
            for (pid, fds) in open where !seen.contains(pid) {
                close(fds)
                open[pid] = nil
            }
            return entries
        }

        /// A process read for the first time, its descriptors kept while there is room.
        private mutating func opened(_ pid: Int32) -> Entry? {
            guard open.count < limit else {
                guard let s = ProcFS.stat(pid) else { return nil }
                return Entry(pid: pid, stat: s, cmdline: s.kernelThread ? [] : ProcFS.cmdlineBytes(pid) ?? [])
            }
            let st = Glibc.open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
            guard st >= 0 else { return nil }
            let cl = Glibc.open("/proc/\(pid)/cmdline", O_RDONLY | O_CLOEXEC)
            guard cl >= 0 else {
                Glibc.close(st)
                return nil
            }
            guard let s = ProcFS.stat(descriptor: st), let cmdline = s.kernelThread ? [] : ProcFS.cmdlineBytes(descriptor: cl) else {
                close((st, cl))
                return nil
            }
            open[pid] = (st, cl)
            return Entry(pid: pid, stat: s, cmdline: cmdline)
        }

        private func close(_ fds: (stat: Int32, cmdline: Int32)) {
            Glibc.close(fds.stat)
            Glibc.close(fds.cmdline)
        }
    }
}
