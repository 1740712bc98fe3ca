import FaultlineCore
import Foundation
import Glibc

/// Runs a command to completion with a timeout, capturing its output. No shell unless the
/// spec is `.shell`.
public enum Spawner {
    public struct Result: Sendable {
        /// Exit status, or 128+signal when killed by a signal; `nil` when it could not start.
        public var status: Int32?
        public var output: String
        public var timedOut: Bool
        public var error: String?
    }

    /// Output beyond this many bytes is read and discarded.
    static let outputLimit = 64 * 1024
    static let spawnLock = NSLock()

    /// Runs `command` in its own process group; on timeout the whole group gets SIGKILL.
    public static func run(_ command: CommandSpec, timeout: Int64) -> Result {
        let argv: [String]
        switch command {
        case .argv(let a): argv = a
        case .shell(let s): argv = ["/bin/sh", "-c", s]
        }
        // pipe2 is not exported to Swift: create and mark close-on-exec under a lock that every
        // spawn takes, so no concurrent spawn inherits the write end and holds the pipe open.
        spawnLock.lock()
        var pipeFds: [Int32] = [0, 0]
        guard pipe(&pipeFds) == 0 else {
            spawnLock.unlock()
            return Result(status: nil, output: "", timedOut: false, error: "pipe: \(errnoText())")
        }
        _ = fcntl(pipeFds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipeFds[1], F_SETFD, FD_CLOEXEC)
        let (readFd, writeFd) = (pipeFds[0], pipeFds[1])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeFd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeFd, 2)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGPIPE, SIGHUP] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        var pid: pid_t = 0
        let cargs = argv.map { strdup($0) } + [nil]
        defer { for c in cargs { free(c) } }
        let rc = posix_spawnp(&pid, argv[0], &actions, &attr, cargs, environ)
        close(writeFd)
        spawnLock.unlock()
        guard rc == 0 else {
            close(readFd)
            return Result(status: nil, output: "", timedOut: false, error: "cannot run '\(argv[0])': \(errnoText(rc))")
        }
        let deadline = MonotonicClock.now() + timeout
        let (output, timedOut) = drain(readFd, until: deadline)
        close(readFd)
        if timedOut { kill(-pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(status: code, output: output, timedOut: timedOut, error: timedOut ? "timed out" : nil)
    }

    /// Reads until EOF or the deadline; returns the (capped) output and whether time ran out.
    static func drain(_ fd: Int32, until deadline: Int64) -> (String, Bool) {
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let remaining = deadline - MonotonicClock.now()
            if remaining <= 0 { return (String(decoding: bytes, as: UTF8.self), true) }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, Int32(min(remaining / 1_000_000 + 1, 1_000)))
            if ready < 0, errno == EINTR { continue }
            if ready <= 0 { continue }
            let n = read(fd, &buf, buf.count)
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return (String(decoding: bytes, as: UTF8.self), false) }
            if bytes.count < outputLimit { bytes += buf[0..<min(n, outputLimit - bytes.count)] }
        }
    }
}
