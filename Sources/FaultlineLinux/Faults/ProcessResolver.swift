import FaultlineCore
import Foundation
import Glibc

/// Finds the processes a selector names on this host.
public enum ProcessResolver {
    /// Every live process matching `selector`, oldest first; never a protected one.
    public static func matches(_ selector: ProcessSelector) throws(FaultError) -> [ProcessRef] {
        try resolve(selector).matches
    }

    /// The live processes matching `selector` (oldest first), and why each protected process it
    /// also matched was left out.
    static func resolve(_ selector: ProcessSelector) throws(FaultError) -> (matches: [ProcessRef], protected: [String]) {
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
                return argv0.split(separator: "/").last.map(String.init) == name
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
        let protected = Protected.current
        var refused: [String] = []
        let found = candidates.compactMap { pid -> ProcessRef? in
            guard let s = ProcFS.stat(pid), s.state != "Z", s.state != "X" else { return nil }
            if let why = protected.reason(pid) {
                refused.append(why)
                return nil
            }
            return ProcessRef(pid: pid, startTime: s.startTime, name: s.comm)
        }.sorted { ($0.startTime, $0.pid) < ($1.startTime, $1.pid) }
        return (found, refused)
    }

    /// The processes no fault may take, whatever selects them: PID 1, this agent and its
    /// ancestors (the runner that started it, the runner's shell, sshd …), and every process
    /// running the faultline executable (other agents and runs, lab hosts' inits).
    struct Protected: Sendable {
        let me = getpid()
        let ancestors: Set<Int32>
        let executable = ProcFS.executable(getpid())

        /// Read once per process: its ancestors and its executable do not change while it
        /// lives (an ancestor that died would have ended the agent's input, or the runner's).
        static let current = Protected()

        init() {
            var chain = Set<Int32>()
            var pid = getpid()
            while pid > 1, chain.insert(pid).inserted, let parent = ProcFS.stat(pid)?.ppid { pid = parent }
            ancestors = chain
        }

        /// Why `pid` may not be taken, or nil.
        func reason(_ pid: Int32) -> String? {
            if pid == 1 { return "PID 1 (init)" }
            if pid == me { return "the agent itself (pid \(pid))" }
            if ancestors.contains(pid) { return "an ancestor of the agent (pid \(pid)): the runner or what started it" }
            if let executable, ProcFS.executable(pid) == executable {
                return "a faultline process (pid \(pid)): an agent, a runner or a lab host's init"
            }
            return nil
        }
    }

    /// The processes a fault takes, checked against its multiplicity and the safety rules.
    public static func targets(_ p: ProcessTarget) throws(FaultError) -> [ProcessRef] {
        if case .pid(let pid) = p.selector {
            if pid == 1 { throw FaultError.refused("refusing to signal PID 1 (init)") }
            if pid == getpid() { throw FaultError.refused("refusing to signal the runner itself (pid \(pid))") }
            if let why = Protected.current.reason(pid) { throw FaultError.refused("refusing to signal \(why)") }
        }
        let (found, protected) = try resolve(p.selector)
        guard !found.isEmpty else {
            if !protected.isEmpty {
                throw FaultError.refused(
                    "refusing to signal \(protected.joined(separator: "; ")): the only match of \(p.selector) on host '\(p.host)', and never a target"
                )
            }
            throw FaultError.target("no process matches \(p.selector) on host '\(p.host)'")
        }
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
