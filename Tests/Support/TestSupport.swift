internal import CLinux
import Foundation
import Glibc

/// A free TCP port on 127.0.0.1 (bound to port 0, then released).
public func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// A process started with `posix_spawnp` and reaped with `waitpid` — no Foundation `Process`,
/// whose exit monitoring is not dependable inside the test runner.
public final class Spawned {
    public let pid: Int32
    private var status: Int32?

    /// Starts `argv` (searched in PATH) in `dir`, stdout and stderr to the given files (or /dev/null);
    /// `stdinFd`/`stdoutFd`, when given, are used instead.
    public init(
        _ argv: [String], in dir: String? = nil, stdout: String = "/dev/null", stderr: String = "/dev/null", stdinFd: Int32? = nil,
        stdoutFd: Int32? = nil
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdinFd {
            posix_spawn_file_actions_adddup2(&actions, stdinFd, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        if let stdoutFd {
            posix_spawn_file_actions_adddup2(&actions, stdoutFd, 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        }
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // A test's socket (opened without close-on-exec) never lives on in a child: it would
        // stay bound, and the next test binding its port would find it in use.
        faultline_spawn_closefrom(&actions, 3)
        // posix_spawn_file_actions_addchdir_np is not exported to Swift: let sh change directory.
        let full = dir.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0] + argv } ?? argv
        let cargs = full.map { strdup($0) } + [nil]
        defer { for c in cargs { free(c) } }
        var pid: Int32 = 0
        let rc = posix_spawnp(&pid, full[0], &actions, nil, cargs, environ)
        guard rc == 0 else { throw TestFailure("cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    /// Reaps without blocking; true while the process has not exited.
    public var isRunning: Bool {
        if status != nil { return false }
        var s: Int32 = 0
        if waitpid(pid, &s, WNOHANG) == pid {
            status = s
            return false
        }
        return true
    }

    /// Waits for exit; returns the exit code (128+signal when killed).
    @discardableResult
    public func wait() -> Int32 {
        if status == nil {
            var s: Int32 = 0
            while waitpid(pid, &s, 0) < 0, errno == EINTR {}
            status = s
        }
        let s = status ?? 0
        return (s & 0x7f) == 0 ? (s >> 8) & 0xff : 128 + (s & 0x7f)
    }

    /// Continues (if stopped), kills and reaps.
    public func stop() {
        guard isRunning else { return }
        kill(pid, SIGCONT)
        kill(pid, SIGKILL)
        wait()
    }

    deinit { stop() }
}

/// What a finished process cost, from `wait4`'s resource usage.
public struct Usage {
    /// Exit code, or 128+signal.
    public var status: Int32
    /// User and system CPU time, seconds: unlike wall time, not stretched by other work on the machine.
    public var cpuSeconds: Double
    /// Peak resident set size, KiB.
    public var maxRSSKiB: Int
}

extension Spawned {
    /// Runs `argv` in `dir` to its end and returns what it cost, measured by a small parent that
    /// forks it: `posix_spawn` starts a child in the caller's memory (vfork), and Linux carries
    /// that memory's peak into the child's `ru_maxrss` at exec — every child of a test process
    /// that had grown to 110 MB "used" 110 MB.
    public static func measure(_ argv: [String], in dir: String, stdout: String, stderr: String) throws -> Usage {
        let report = "\(stdout).usage"
        let script = """
            import os, sys
            pid = os.fork()
            if pid == 0:
                os.execvp(sys.argv[2], sys.argv[2:])
            _, status, ru = os.wait4(pid, 0)
            code = os.waitstatus_to_exitcode(status)
            open(sys.argv[1], "w").write(f"{code if code >= 0 else 128 - code} {ru.ru_utime + ru.ru_stime} {ru.ru_maxrss}")
            """
        // -S -E: no site packages or environment to read, so each measurement starts in ~10 ms.
        let p = try Spawned(["python3", "-S", "-E", "-c", script, report] + argv, in: dir, stdout: stdout, stderr: stderr)
        p.wait()
        let fields = ((try? String(contentsOfFile: report, encoding: .utf8)) ?? "").split(separator: " ")
        unlink(report)
        guard fields.count == 3, let code = Int32(fields[0]), let cpu = Double(fields[1]), let rss = Int(fields[2]) else {
            throw TestFailure("could not measure \(argv.first ?? "")")
        }
        return Usage(status: code, cpuSeconds: cpu, maxRSSKiB: rss)
    }

}

/// A child process owned by a test, stopped when released.
public typealias Child = Spawned

extension Spawned {
    /// A real HTTP server on 127.0.0.1, ready when this returns.
    public static func httpServer(port: Int) throws -> Spawned {
        let c = try Spawned(["python3", "-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", "/tmp"])
        try waitForPort(port)
        return c
    }
}

/// Polls until something accepts TCP connections on the port (at most 10 s).
public func waitForPort(_ port: Int) throws {
    for _ in 0..<1_000 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        close(fd)
        if rc == 0 { return }
        usleep(10_000)
    }
    throw TestFailure("nothing listens on port \(port)")
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// A fresh temporary directory, removed by the caller.
/// A fresh directory under `base` (the system's temporary directory by default; a lab whose
/// hosts make /tmp private needs one outside /tmp, such as /var/tmp).
public func temporaryDirectory(under base: String = NSTemporaryDirectory()) throws -> String {
    let dir = (base.hasSuffix("/") ? base : base + "/") + "faultline-test-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// The built `faultline` binary: `$FAULTLINE_BIN`, or the one next to the test bundle.
public enum FaultlineBinary {
    public static var path: String {
        if let p = ProcessInfo.processInfo.environment["FAULTLINE_BIN"] { return p }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("faultline").path
    }

    public struct Output {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Starts the binary in `dir` (inside network namespace `namespace`, if given) with stdout
    /// and stderr captured to files there.
    public static func start(_ arguments: [String], in dir: String, namespace: String? = nil) throws -> Spawned {
        let prefix = namespace.map { ["ip", "netns", "exec", $0] } ?? []
        return try Spawned(prefix + [path] + arguments, in: dir, stdout: "\(dir)/stdout", stderr: "\(dir)/stderr")
    }

    /// Runs the binary to completion in `dir`.
    public static func run(_ arguments: [String], in dir: String, namespace: String? = nil) throws -> Output {
        let p = try start(arguments, in: dir, namespace: namespace)
        return collect(p, in: dir)
    }

    /// Waits for the process and reads what it printed.
    public static func collect(_ p: Spawned, in dir: String) -> Output {
        let status = p.wait()
        let out = (try? String(contentsOfFile: "\(dir)/stdout", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: "\(dir)/stderr", encoding: .utf8)) ?? ""
        return Output(status: status, stdout: out, stderr: err)
    }
}

/// The state letter of a process from /proc/PID/stat (`T` when stopped), or nil when gone.
public func processState(_ pid: Int32) -> Character? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = text.lastIndex(of: ")")
    else { return nil }
    return text[text.index(close, offsetBy: 2)]
}

/// Every descendant of `pid` (children, their children, …), from /proc.
public func descendants(of pid: Int32) -> [Int32] {
    var parents: [Int32: Int32] = [:]
    for p in (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap(Int32.init) ?? [] {
        guard let text = try? String(contentsOfFile: "/proc/\(p)/stat", encoding: .utf8), let close = text.lastIndex(of: ")") else {
            continue
        }
        let fields = text[text.index(close, offsetBy: 2)...].split(separator: " ")
        if fields.count > 1, let ppid = Int32(fields[1]) { parents[p] = ppid }
    }
    var out: [Int32] = []
    var frontier = [pid]
    while let next = frontier.popLast() {
        let children = parents.filter { $0.value == next }.map(\.key)
        out += children
        frontier += children
    }
    return out
}

/// The command line of a process, arguments joined by spaces.
public func commandLine(_ pid: Int32) -> String {
    ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").replacingOccurrences(of: "\0", with: " ")
}

/// What `promtool check metrics` (Debian's prometheus) says of `text`: nil when it exits 0 and
/// says nothing (no parse error, no lint), else its words. Throws when promtool is missing.
public func promtoolComplaint(_ text: String) throws -> String? {
    let tool = "/usr/bin/promtool"
    guard FileManager.default.isExecutableFile(atPath: tool) else {
        throw TestFailure("promtool is not installed (scripts/install-deps.sh installs Debian's prometheus)")
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tool)
    p.arguments = ["check", "metrics"]
    let input = Pipe()
    let output = Pipe()
    p.standardInput = input
    p.standardOutput = output
    p.standardError = output
    try p.run()
    input.fileHandleForWriting.write(Data(text.utf8))
    try input.fileHandleForWriting.close()
    let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return p.terminationStatus == 0 && said.isEmpty ? nil : "exit \(p.terminationStatus): \(said)"
}

/// What xmllint says when `xml` is held to Jenkins' JUnit schema (the xunit plugin's
/// junit-10.xsd, which scripts/install-deps.sh puts in .build/junit-xsd): nil when it
/// validates, else its words. Throws when xmllint or the schema is missing.
public func junitSchemaComplaint(_ xml: String) throws -> String? {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let schema = root.appendingPathComponent(".build/junit-xsd/junit-10.xsd").path
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/xmllint"), FileManager.default.fileExists(atPath: schema) else {
        throw TestFailure("xmllint or \(schema) is missing: run scripts/install-deps.sh")
    }
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try xml.write(toFile: "\(dir)/junit.xml", atomically: true, encoding: .utf8)
    let p = try Spawned(
        ["/usr/bin/xmllint", "--noout", "--schema", schema, "junit.xml"], in: dir, stdout: "\(dir)/out", stderr: "\(dir)/out")
    let status = p.wait()
    let said = (try? String(contentsOfFile: "\(dir)/out", encoding: .utf8)) ?? ""
    return status == 0 ? nil : "exit \(status): \(said)"
}

/// What headless Chromium (Debian's) saw of a report.html, as scripts/browser-check.py prints it.
public struct BrowserView: Decodable {
    public struct Facts: Decodable {
        public var title: String
        public var verdict: String?
        public var timeline: Bool
        public var faultWindows: [String]
        public var faultBars: [String]
        public var markers: [String]
        public var eventTicks: Int
        public var outcomes: [String]
        public var latency: [String]
        public var failedChecks: [String]
        public var evidence: String
        public var tables: Int
        public var overflow: Bool
        public var scripts: Int
    }
    public var requests: [String]
    public var errors: [String]
    public var load_ms: Double
    public var facts: Facts

    /// Renders `page` at `width` CSS pixels, saving a screenshot at `shot` (and the timeline
    /// alone beside it). Throws when Chromium is missing: a test of the page never passes
    /// without a browser having drawn it.
    public static func open(_ page: String, screenshot shot: String, width: Int = 1280) throws -> BrowserView {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") else {
            throw TestFailure("chromium is not installed (scripts/install-deps.sh installs Debian's)")
        }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = try Spawned(
            ["/usr/bin/python3", root.appendingPathComponent("scripts/browser-check.py").path, page, shot, "--width", "\(width)"],
            in: dir, stdout: "\(dir)/out", stderr: "\(dir)/err")
        let status = p.wait()
        let out = (try? Data(contentsOf: URL(fileURLWithPath: "\(dir)/out"))) ?? Data()
        guard status == 0 else {
            let err = (try? String(contentsOfFile: "\(dir)/err", encoding: .utf8)) ?? ""
            throw TestFailure("browser-check.py exited \(status): \(err)")
        }
        return try JSONDecoder().decode(BrowserView.self, from: out)
    }
}

/// What scripts/check-journal.py says of the journal at `path` held to docs/journal.schema.json
/// (Debian's python3-jsonschema): nil when it holds, else every violation. Throws when the
/// checker cannot run.
public func journalSchemaComplaint(_ path: String) throws -> String? {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let p = try Spawned(
        ["/usr/bin/python3", root.appendingPathComponent("scripts/check-journal.py").path, path], in: dir, stdout: "\(dir)/out",
        stderr: "\(dir)/out")
    let status = p.wait()
    let said = (try? String(contentsOfFile: "\(dir)/out", encoding: .utf8)) ?? ""
    guard status == 0 || status == 1 else { throw TestFailure("check-journal.py exited \(status): \(said)") }
    return status == 0 ? nil : said
}

/// Every instant a journal holds that is not on the run's clock: any integer under a key named
/// `at` or ending `_at`, and every sample's `scheduled` and `started`, anywhere in it (so an
/// instant added later is held too), must lie between the run's start (0) and its end
/// (`duration_ns`); `finished_at − started_at` on the wall clock must agree with `duration_ns`
/// to within `wallSlack`. Returns each violation as `path: value`.
public func instantsOffTheRunClock(_ path: String, wallSlack: Int64 = 20_000_000) throws -> [String] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
        let duration = (root["duration_ns"] as? NSNumber)?.int64Value
    else { throw TestFailure("\(path): not a journal with duration_ns") }
    var out: [String] = []
    var seen = 0
    func check(_ v: Any, _ where_: String) {
        guard !(v is Bool), let n = v as? NSNumber else { return }
        seen += 1
        let t = n.int64Value
        if t < 0 || t > duration { out.append("\(where_): \(t) (run 0…\(duration))") }
    }
    func walk(_ v: Any, _ path: String) {
        if let d = v as? [String: Any] {
            for (k, x) in d {
                if k == "at" || k.hasSuffix("_at") {
                    check(x, "\(path).\(k)")
                } else if k == "scheduled" || k == "started", let a = x as? [Any] {
                    for (i, t) in a.enumerated() { check(t, "\(path).\(k)[\(i)]") }
                } else {
                    walk(x, "\(path).\(k)")
                }
            }
        } else if let a = v as? [Any] {
            for (i, x) in a.enumerated() { walk(x, "\(path)[\(i)]") }
        }
    }
    walk(root, "")
    if seen < 10 { out.append("only \(seen) instants found: the walk is not reading this journal") }
    if let s = (root["started_at"] as? String).flatMap(journalInstant), let f = (root["finished_at"] as? String).flatMap(journalInstant) {
        let wall = Int64((f.timeIntervalSince(s) * 1e9).rounded())
        if abs(wall - duration) > wallSlack { out.append("finished_at − started_at = \(wall) ns, duration_ns = \(duration)") }
    } else {
        out.append("started_at or finished_at missing or unreadable")
    }
    return out
}

/// A journal's wall-clock instant (`started_at`, `finished_at`: ISO 8601 with milliseconds).
public func journalInstant(_ text: String) -> Date? {
    let iso = ISO8601DateFormatter()
    iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return iso.date(from: text)
}
