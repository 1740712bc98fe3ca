import FaultlineEssentials
import FoundationEssentials
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
        let asked = ProcessTable.instant ?? MonotonicClock.now()
        // Each candidate with its stat when it came from this instant's table (read after the
        // selection asked: not read again), else read here.
        var candidates: [(pid: Int32, stat: ProcFS.Stat?)]
        switch selector {
        case .pid(let p):
            candidates = [(p, nil)]
        case .pidFile(let path):
            candidates = [(try pidFromFile(path), nil)]
        case .port(let port):
            let inodes = ProcFS.listeningInodes(port: port)
            candidates = inodes.isEmpty ? [] : ProcFS.pids().filter { !ProcFS.socketInodes($0).isDisjoint(with: inodes) }.map { ($0, nil) }
        case .name(let name):
            candidates = ProcessTable.since(asked).filter { e in
                if e.stat.comm == name { return true }
                guard let argv0 = e.argv0 else { return false }
                return argv0.split(separator: "/").last.map(String.init) == name
            }.map { ($0.pid, $0.stat) }
        case .cmdline(let source):
            candidates = try cmdlineMatches(source, except: me, asked: asked)
        }
        let protected = Protected.current
        var refused: [String] = []
        let found = candidates.compactMap { c -> ProcessRef? in
            guard let s = c.stat ?? ProcFS.stat(c.pid), s.state != "Z", s.state != "X" else { return nil }
            if let why = protected.reason(c.pid) {
                refused.append(why)
                return nil
            }
            return ProcessRef(pid: c.pid, startTime: s.startTime, name: s.comm)
        }.sorted { ($0.startTime, $0.pid) < ($1.startTime, $1.pid) }
        return (found, refused)
    }

    /// The pid on the first line of a pid file (PostgreSQL's postmaster.pid adds more lines).
    /// Only its first 64 bytes are read, and none of them is ever shown: the path comes from
    /// the experiment, and a file that is not a pid file could hold a secret.
    static func pidFromFile(_ path: String) throws(FaultError) -> Int32 {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw FaultError.target("cannot read pid file \(shown: path): \(errnoText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw FaultError.target("pid file \(shown: path) is not a regular file")
        }
        var buf = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &buf, buf.count)
        let first = buf.prefix(max(0, n)).prefix { $0 != 10 }
        let digits = first.drop { $0 == 32 || $0 == 9 }.prefix { $0 != 32 && $0 != 9 && $0 != 13 }
        guard !digits.isEmpty, digits.count <= 7, digits.allSatisfy({ (48...57).contains($0) }),
            let pid = Int32(String(decoding: digits, as: UTF8.self)), pid > 0
        else {
            throw FaultError.target("pid file \(shown: path) does not start with a process id (a number on its first line)")
        }
        return pid
    }

    /// Steps one `cmdline` selection may spend over every process of the host: linear in their
    /// command lines (faultline's own engine), and bounded whatever they hold, so a selection
    /// ends in well under a second even against hostile command lines.
    static let selectionBudget = 100_000_000

    /// Patterns compiled before, by source: an armed fault's warm prepare compiles its pattern,
    /// and its instant's prepare finds it here (compiling is a fifth of a prepare: the literal
    /// analysis walks the whole syntax tree). Emptied when it holds 256.
    private static let patterns = Locked<[String: Pattern]>([:])

    static func compiled(_ source: String) throws(FaultError) -> Pattern {
        if let p = patterns.value[source] { return p }
        let pattern: Pattern
        do { pattern = try Pattern(source) } catch { throw FaultError.target("invalid cmdline pattern \(shown: source): \(error)") }
        patterns.mutate { cache in
            if cache.count >= 256 { cache.removeAll() }
            cache[source] = pattern
        }
        return pattern
    }

    /// Processes whose command line (arguments joined by spaces) matches `source`.
    static func cmdlineMatches(_ source: String, except me: Int32, asked: Int64) throws(FaultError) -> [(pid: Int32, stat: ProcFS.Stat?)] {
        let pattern = try compiled(source)
        var budget = selectionBudget
        var out: [(pid: Int32, stat: ProcFS.Stat?)] = []
        for e in ProcessTable.since(asked) where e.pid != me && !e.line.isEmpty {
            do {
                if try pattern.matches(utf8: e.line, budget: &budget) { out.append((e.pid, e.stat)) }
            } catch {
                throw FaultError.target(
                    "matching cmdline /\(ShownText.escaped(source))/ against this host's command lines needed more than \(selectionBudget) steps; select by name, pid or port, or a pattern with more literal text"
                )
            }
        }
        return out
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
