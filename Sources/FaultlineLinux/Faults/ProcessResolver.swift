import FaultlineCore
import Foundation
import Glibc

/// Finds the processes a selector names on this host.
public enum ProcessResolver {
    /// Every live process matching `selector`, oldest first; never this process or PID 1.
    public static func matches(_ selector: ProcessSelector) throws(FaultError) -> [ProcessRef] {
        let me = getpid()
        var candidates: [Int32]
        switch selector {
        case .pid(let p):
            candidates = [p]
        case .pidFile(let path):
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw FaultError.target("cannot read pid file '\(path)'")
            }
            // The pid is the first line; some servers (PostgreSQL's postmaster.pid) add more.
            let first = text.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
            guard let p = Int32(first.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw FaultError.target("pid file '\(path)' does not hold a pid: '\(text.prefix(40))'")
            }
            candidates = [p]
        case .port(let port):
            let inodes = ProcFS.listeningInodes(port: port)
            candidates = inodes.isEmpty ? [] : ProcFS.pids().filter { !ProcFS.socketInodes($0).isDisjoint(with: inodes) }
        case .name(let name):
            candidates = ProcFS.pids().filter { pid in
                if ProcFS.stat(pid)?.comm == name { return true }
                guard let argv0 = ProcFS.cmdline(pid).first else { return false }
                return (argv0 as NSString).lastPathComponent == name
            }
        case .cmdline(let pattern):
            guard let re = try? NSRegularExpression(pattern: pattern) else {
                throw FaultError.target("invalid cmdline pattern '\(pattern)'")
            }
            candidates = ProcFS.pids().filter { pid in
                guard pid != me else { return false }
                let line = ProcFS.cmdline(pid).joined(separator: " ")
                return !line.isEmpty && re.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
            }
        }
        return candidates.compactMap { pid -> ProcessRef? in
            guard pid != me, pid != 1, let s = ProcFS.stat(pid), s.state != "Z", s.state != "X" else { return nil }
            return ProcessRef(pid: pid, startTime: s.startTime, name: s.comm)
        }.sorted { ($0.startTime, $0.pid) < ($1.startTime, $1.pid) }
    }

    /// The processes a fault takes, checked against its multiplicity and the safety rules.
    public static func targets(_ p: ProcessTarget) throws(FaultError) -> [ProcessRef] {
        if case .pid(let pid) = p.selector {
            if pid == 1 { throw FaultError.refused("refusing to signal PID 1 (init)") }
            if pid == getpid() { throw FaultError.refused("refusing to signal the runner itself (pid \(pid))") }
        }
        let found = try matches(p.selector)
        guard !found.isEmpty else { throw FaultError.target("no process matches \(p.selector) on host '\(p.host)'") }
        switch p.multiplicity {
        case .one:
            guard found.count == 1 else {
                throw FaultError.target(
                    "\(found.count) processes match \(p.selector) on host '\(p.host)' (\(found.map(\.description).joined(separator: ", "))); set 'count' or 'all: true'"
                )
            }
            return found
        case .count(let n):
            guard found.count >= n else {
                throw FaultError.target("'count' is \(n) but only \(found.count) processes match \(p.selector) on host '\(p.host)'")
            }
            return Array(found.prefix(n))
        case .all:
            return found
        }
    }
}
