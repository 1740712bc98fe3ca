import FaultlineEssentials
import FoundationEssentials

/// Every process of the host with its stat and command line, read once for every selection
/// that asks at about the same time: the faults of one instant on one host each look for
/// their processes, and 32 scans of /proc would make the last one tens of milliseconds late.
/// A selection is given a table read after it asked, never an older one, so it sees the host
/// as it is when it fires.
enum ProcessTable {
    struct Entry: Sendable {
        var pid: Int32
        var stat: ProcFS.Stat
        var cmdline: [String]
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
        let entries = ProcFS.pids().compactMap { pid -> Entry? in
            guard let s = ProcFS.stat(pid) else { return nil }
            // A kernel thread has no command line and is never a target: not read.
            return Entry(pid: pid, stat: s, cmdline: s.kernelThread ? [] : ProcFS.cmdline(pid))
        }
        latest.mutate { $0 = (at, entries) }
        return entries
    }
}
