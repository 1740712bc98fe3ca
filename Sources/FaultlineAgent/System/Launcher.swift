internal import CLinux
import FoundationEssentials
import Glibc

/// The one place processes are started (`posix_spawnp`): stdio wiring, a clean signal mask
/// (a blocked mask would be inherited across exec), and session or group placement.
package enum Launcher {
    package enum Stdio {
        case null
        /// Appended to, created if missing.
        case file(String)
        case descriptor(Int32)
    }

    package struct Options {
        package var stdin = Stdio.null
        package var stdout = Stdio.null
        /// `nil`: the same as stdout.
        package var stderr: Stdio?
        /// A new session (setsid): detached from the terminal and from the caller's group.
        package var newSession = false
        /// A new process group, so a timeout can kill the whole group.
        package var newGroup = false
        /// Signals reset to their default action in the child.
        package var defaultSignals: [Int32] = [SIGINT, SIGTERM, SIGPIPE, SIGHUP]
        /// Replaces the environment when set.
        package var environment: [String: String]?
        /// A file opened read-only as the child's descriptor 3 before it runs (`Launch.inherit`).
        package var inherit: String?

        package init() {}
    }

    /// Every spawn holds this lock, so descriptors made close-on-exec just before a spawn are
    /// never inherited by a concurrent one.
    static let lock = Lock()

    /// Why a spawn failed: the errno `posix_spawnp` returned.
    package struct Failure: Error {
        var code: Int32
        package var text: String { errnoText(code) }
    }

    /// Starts `argv` (searched in PATH); returns the pid or the errno of the failure.
    package static func spawn(_ argv: [String], _ o: Options) -> Result<Int32, Failure> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        wire(&actions, o.stdin, to: 0, read: true)
        wire(&actions, o.stdout, to: 1, read: false)
        if let e = o.stderr { wire(&actions, e, to: 2, read: false) } else { posix_spawn_file_actions_adddup2(&actions, 1, 2) }
        // Opened in the child, without O_CLOEXEC: it survives the exec and what that execs.
        if let path = o.inherit { posix_spawn_file_actions_addopen(&actions, 3, path, O_RDONLY, 0) }
        // Nothing else: a descriptor some library opened without close-on-exec would otherwise
        // live on in a lab's service or an agent (a bound socket stays bound while they run).
        faultline_spawn_closefrom(&actions, o.inherit == nil ? 3 : 4)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in o.defaultSignals { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if o.newSession { flags |= 0x80 }  // POSIX_SPAWN_SETSID (glibc ≥ 2.26), not exported to Swift
        if o.newGroup {
            posix_spawnattr_setpgroup(&attr, 0)
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
        }
        posix_spawnattr_setflags(&attr, Int16(flags))
        let cargs = argv.map { strdup($0) } + [nil]
        let envp = o.environment.map { env in env.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer {
            for c in cargs { free(c) }
            for c in envp ?? [] { free(c) }
        }
        var pid: pid_t = 0
        lock.lock()
        defer { lock.unlock() }
        let rc =
            envp.map { posix_spawnp(&pid, argv[0], &actions, &attr, cargs, $0) }
            ?? posix_spawnp(&pid, argv[0], &actions, &attr, cargs, environ)
        return rc == 0 ? .success(pid) : .failure(Failure(code: rc))
    }

    private static func wire(_ actions: inout posix_spawn_file_actions_t, _ s: Stdio, to fd: Int32, read: Bool) {
        switch s {
        case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", read ? O_RDONLY : O_WRONLY, 0)
        case .file(let path): posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        case .descriptor(let d): posix_spawn_file_actions_adddup2(&actions, d, fd)
        }
    }

    /// A pipe whose ends are close-on-exec (pipe2 is not exported to Swift; the launch lock
    /// closes the window between pipe and fcntl).
    package static func pipe() -> (read: Int32, write: Int32)? {
        lock.lock()
        defer { lock.unlock() }
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { return nil }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return (fds[0], fds[1])
    }
}
