import Foundation
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
    }

    public static func pids() -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init)
    }

    /// Parses `/proc/PID/stat`; `nil` when the process is gone.
    public static func stat(_ pid: Int32) -> Stat? {
        guard let text = read("/proc/\(pid)/stat"), let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")")
        else { return nil }
        let comm = String(text[text.index(after: open)..<close])
        let rest = text[text.index(close, offsetBy: 2)...].split(separator: " ")
        // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
        guard rest.count > 19, let state = rest[0].first, let ppid = Int32(rest[1]), let start = UInt64(rest[19]) else {
            return nil
        }
        return Stat(comm: comm, state: state, ppid: ppid, startTime: start)
    }

    /// The command line's arguments; empty for kernel threads and gone processes.
    public static func cmdline(_ pid: Int32) -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return [] }
        return data.split(separator: 0, omittingEmptySubsequences: false).dropLast(data.last == 0 ? 1 : 0)
            .map { String(decoding: $0, as: UTF8.self) }
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

    /// The PID namespace a process is in, as the link text `pid:[INODE]`.
    /// The file a process runs (`/proc/PID/exe`), or nil when it cannot be read.
    public static func executable(_ pid: Int32) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")
    }

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
