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
        let entries = kept.scan()
        latest.mutate { $0 = (at, entries) }
        return entries
    }

    /// Guarded by `reading`.
    nonisolated(unsafe) private static var kept = Kept()

    /// Each process's stat and cmdline, kept open from one scan to the next: a scan then reads
    /// /proc's directory and two preads a process, where opening both files anew (a path
    /// walk through /proc each) cost four times as much — 1.8 ms for 150 processes, which
    /// every fault of an instant on this host waited for. A descriptor stays bound to the
    /// process it was opened on: once that process has gone it reads ESRCH, whoever has its
    /// pid since, and is closed. At most a quarter of the descriptor limit is kept; the
    /// processes beyond it are read the plain way.
    struct Kept {
        private var open: [Int32: (stat: Int32, cmdline: Int32)] = [:]
        private let limit: Int = {
            var l = rlimit()
            guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &l) == 0 else { return 0 }
            return Int(min(l.rlim_cur / 8, 4096))
        }()

        mutating func scan() -> [Entry] {
            let pids = ProcFS.pids()
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
