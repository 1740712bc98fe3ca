import FaultlineEssentials
import FoundationEssentials
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
    public static let outputLimit = 64 * 1024

    /// Runs `command` in its own process group; on timeout the whole group gets SIGKILL.
    /// `inherit`: a file opened as the command's descriptor 3 (`Launch`).
    /// `environment`: replaces the environment when given.
    public static func run(
        _ command: CommandSpec, timeout: Int64, outputLimit limit: Int = outputLimit, inherit: String? = nil,
        environment: [String: String]? = nil
    ) -> Result {
        let argv: [String]
        switch command {
        case .argv(let a): argv = a
        case .shell(let s): argv = ["/bin/sh", "-c", s]
        }
        guard let (readFd, writeFd) = Launcher.pipe() else {
            return Result(status: nil, output: "", timedOut: false, error: "pipe: \(errnoText())")
        }
        var options = Launcher.Options()
        options.stdout = .descriptor(writeFd)
        options.newGroup = true
        options.inherit = inherit
        options.environment = environment
        let launched = Launcher.spawn(argv, options)
        close(writeFd)
        let pid: pid_t
        switch launched {
        case .success(let p): pid = p
        case .failure(let f):
            close(readFd)
            return Result(status: nil, output: "", timedOut: false, error: "cannot run '\(argv[0])': \(f.text)")
        }
        let deadline = MonotonicClock.now() + timeout
        let (output, timedOut, exited) = drain(readFd, pid: pid, until: deadline, limit: limit)
        close(readFd)
        var status: Int32 = 0
        if let exited {
            status = exited
        } else {
            if timedOut { kill(-pid, SIGKILL) }
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(status: code, output: output, timedOut: timedOut, error: timedOut ? "timed out" : nil)
    }

    /// Reads until EOF, the deadline, or shortly after the child exits: a daemon it started
    /// (`pg_ctl start`, `nginx`) may keep the pipe open for ever. Returns the (capped) output,
    /// whether time ran out, and the child's wait status when it was reaped here.
    static func drain(_ fd: Int32, pid: pid_t, until deadline: Int64, limit: Int) -> (String, Bool, Int32?) {
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        var exited: (status: Int32, at: Int64)?
        while true {
            let now = MonotonicClock.now()
            let remaining = deadline - now
            if remaining <= 0 { return (String(decoding: bytes, as: UTF8.self), exited == nil, exited?.status) }
            if let e = exited, now - e.at > 50_000_000 { return (String(decoding: bytes, as: UTF8.self), false, e.status) }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, Int32(min(remaining / 1_000_000 + 1, 10)))
            if ready < 0, errno == EINTR { continue }
            if ready > 0 {
                let n = read(fd, &buf, buf.count)
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return (String(decoding: bytes, as: UTF8.self), false, exited?.status) }
                if bytes.count < limit { bytes += buf[0..<min(n, limit - bytes.count)] }
            }
            if exited == nil {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid { exited = (status, MonotonicClock.now()) }
            }
        }
    }
}
