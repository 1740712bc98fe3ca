import FoundationEssentials
import Glibc

/// A process as seen in `/proc`, identified by pid *and* start time so a reused pid is never mistaken.
public struct ProcessRef: Codable, Hashable, Sendable, CustomStringConvertible {
    public var pid: Int32
    /// Field 22 of `/proc/PID/stat`: clock ticks since boot when the process started.
    public var startTime: UInt64
    public var name: String

    public init(pid: Int32, startTime: UInt64, name: String) {
        self.pid = pid
        self.startTime = startTime
        self.name = name
    }

    public var description: String { "\(pid) (\(name))" }
}

/// Reads process facts from `/proc`.
public enum ProcFS {
    public struct Stat: Equatable, Sendable {
        public var comm: String
        /// R, S, D, T (stopped), t (traced), Z (zombie), X, I.
        public var state: Character
        public var ppid: Int32
        public var startTime: UInt64
        /// PF_KTHREAD in the flags (field 9): a kernel thread, without a command line.
        public var kernelThread = false
    }

    public static func pids() -> [Int32] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var out: [Int32] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let pid = Int32(name) { out.append(pid) }
        }
        return out
    }

    /// Parses `/proc/PID/stat`; `nil` when the process is gone. Read with one open and one read
    /// into a stack buffer and parsed as bytes: an agent resolves a fault's targets at the
    /// instant it fires, and Foundation's file and string layers cost it ten times as much.
    public static func stat(_ pid: Int32) -> Stat? {
        withContents("/proc/\(pid)/stat", capacity: 1024, parseStat)
    }

    /// The same from a descriptor opened on `/proc/PID/stat` earlier: read afresh at offset 0.
    /// Nil once that process has gone (ESRCH), even when its pid has been reused: the
    /// descriptor is bound to the process it was opened on.
    static func stat(descriptor fd: Int32) -> Stat? { withContents(descriptor: fd, capacity: 1024, parseStat) }

    static func parseStat(_ b: UnsafeBufferPointer<UInt8>) -> Stat? {
        // comm may hold spaces and parentheses: it ends at the *last* ')'.
        guard let open = b.firstIndex(of: UInt8(ascii: "(")), let close = b.lastIndex(of: UInt8(ascii: ")")), close + 2 < b.count
        else { return nil }
        let comm = String(decoding: UnsafeBufferPointer(rebasing: b[(open + 1)..<close]), as: UTF8.self)
        // Fields from 3 (state) on, space-separated: state is field 3, ppid 4, starttime 22.
        var field = 3
        var i = close + 2
        var state: UInt8 = 0
        var ppid: Int64 = -1
        var flags: UInt64 = 0
        var start: UInt64?
        while i < b.count, start == nil {
            var j = i
            while j < b.count, b[j] != UInt8(ascii: " "), b[j] != UInt8(ascii: "\n") { j += 1 }
            switch field {
            case 3: state = j > i ? b[i] : 0
            case 4: ppid = decimal(b, i, j).map(Int64.init) ?? -1
            case 9: flags = decimal(b, i, j) ?? 0
            case 22: start = decimal(b, i, j)
            default: break
            }
            field += 1
            i = j + 1
        }
        guard state != 0, ppid >= 0, let start else { return nil }
        return Stat(
            comm: comm, state: Character(Unicode.Scalar(state)), ppid: Int32(truncatingIfNeeded: ppid), startTime: start,
            kernelThread: flags & 0x0020_0000 != 0)
    }

    private static func decimal(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> UInt64? {
        guard to > from else { return nil }
        var v: UInt64 = 0
        for k in from..<to {
            let d = b[k] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            v = v &* 10 &+ UInt64(d)
        }
        return v
    }

    /// The command line's arguments; empty for kernel threads and gone processes.
    public static func cmdline(_ pid: Int32) -> [String] {
        withContents("/proc/\(pid)/cmdline", capacity: 4096, parseCmdline) ?? []
    }

    /// The bytes of `/proc/PID/cmdline` from a descriptor opened on it earlier; nil once that
    /// process has gone.
    static func cmdlineBytes(descriptor fd: Int32) -> [UInt8]? { withContents(descriptor: fd, capacity: 4096) { Array($0) } }

    /// The same by pid.
    static func cmdlineBytes(_ pid: Int32) -> [UInt8]? { withContents("/proc/\(pid)/cmdline", capacity: 4096) { Array($0) } }

    static func parseCmdline(_ b: UnsafeBufferPointer<UInt8>) -> [String]? {
        guard !b.isEmpty else { return [] }
        return b.split(separator: 0, omittingEmptySubsequences: false).dropLast(b.last == 0 ? 1 : 0)
            .map { String(decoding: UnsafeBufferPointer(rebasing: $0), as: UTF8.self) }
    }

    /// `body` over the whole of a (proc) file, read with open and read alone into a stack buffer
    /// of `capacity` bytes (stat fits in 1 KiB, most command lines in 4); a longer file goes on
    /// into a heap buffer. Nil when it cannot be opened or read. A process's stat and command
    /// line are made whole by each read, so a read that leaves room is the end of them: no
    /// second read to see it (a quarter of the system calls of a scan of /proc, which the
    /// faults of one instant wait for).
    static func withContents<R>(_ path: String, capacity: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R?) -> R? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return withContents(descriptor: fd, capacity: capacity, body)
    }

    /// The same on an open descriptor, read from offset 0 with pread (a descriptor kept from
    /// an earlier read is read afresh: proc files are made anew by a read at offset 0).
    static func withContents<R>(descriptor fd: Int32, capacity: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R?) -> R? {
        /// Reads into `buf` from `n` until it is full or the file ends; the bytes held, or nil.
        func fill(_ buf: UnsafeMutableBufferPointer<UInt8>, from start: Int) -> Int? {
            var n = start
            while n < buf.count {
                let r = pread(fd, buf.baseAddress! + n, buf.count - n, off_t(n))
                if r < 0, errno == EINTR { continue }
                if r < 0 { return nil }
                if r == 0 { break }
                n += r
                if n < buf.count { break }
            }
            return n
        }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buf -> R? in
            guard let n = fill(buf, from: 0) else { return nil }
            if n < capacity { return body(UnsafeBufferPointer(rebasing: buf[0..<n])) }
            // Full: the file may go on. Double a heap copy until a read comes up short.
            var big = [UInt8](UnsafeBufferPointer(buf))
            var held = n
            while held == big.count {
                big += [UInt8](repeating: 0, count: big.count)
                guard let m = big.withUnsafeMutableBufferPointer({ fill($0, from: held) }) else { return nil }
                held = m
            }
            return big.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[0..<held])) }
        }
    }

    /// True while the process with this identity is alive (zombies count as gone).
    public static func isAlive(_ p: ProcessRef) -> Bool {
        guard let s = stat(p.pid), s.startTime == p.startTime else { return false }
        return s.state != "Z" && s.state != "X"
    }

    /// The process's pid in each nested PID namespace, outermost first (`NSpid:` of /proc/PID/status).
    public static func nsPids(_ pid: Int32) -> [Int32] {
        guard let text = read("/proc/\(pid)/status"), let line = text.split(separator: "\n").first(where: { $0.hasPrefix("NSpid:") })
        else { return [] }
        return line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Int32($0) }
    }

    /// The file a process runs (`/proc/PID/exe`), or nil when it cannot be read.
    public static func executable(_ pid: Int32) -> String? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(PATH_MAX) + 1) { buf in
            let n = readlink("/proc/\(pid)/exe", buf.baseAddress!, Int(PATH_MAX))
            guard n > 0 else { return nil }
            return String(decoding: UnsafeRawBufferPointer(start: buf.baseAddress!, count: n), as: UTF8.self)
        }
    }

    /// The PID namespace a process is in, as the link text `pid:[INODE]`.
    public static func pidNamespace(_ pid: Int32) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/pid")
    }

    /// Live children of a process.
    public static func children(of parent: Int32) -> [Int32] {
        pids().filter { stat($0)?.ppid == parent }
    }

    /// Inodes of TCP sockets listening on `port` (IPv4 and IPv6).
    public static func listeningInodes(port: Int) -> Set<UInt64> {
        var out = Set<UInt64>()
        for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = read(file) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let f = line.split(separator: " ")
                // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
                guard f.count > 9, f[3] == "0A", let colon = f[1].lastIndex(of: ":"),
                    Int(f[1][f[1].index(after: colon)...], radix: 16) == port, let inode = UInt64(f[9])
                else { continue }
                out.insert(inode)
            }
        }
        return out
    }

    /// Inodes of the sockets a process holds open.
    public static func socketInodes(_ pid: Int32) -> Set<UInt64> {
        let dir = "/proc/\(pid)/fd"
        guard let fds = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        var out = Set<UInt64>()
        var buf = [CChar](repeating: 0, count: 64)
        for fd in fds {
            let n = readlink("\(dir)/\(fd)", &buf, buf.count - 1)
            guard n > 8 else { continue }
            let link = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if link.hasPrefix("socket:["), let inode = UInt64(link.dropFirst(8).dropLast()) { out.insert(inode) }
        }
        return out
    }

    static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
