import FaultlineCore
import Foundation
import Glibc

/// A watchdog process that reverts a run's ledger if the runner dies without finishing.
///
/// The runner holds the write end of a pipe whose read end is the guardian's stdin. A clean
/// finish writes `done`; end-of-file without it means the runner crashed or was SIGKILLed, and
/// the guardian replays the run's pending undo steps at once. The guardian lives in its own
/// process group, so a Ctrl-C aimed at the runner does not reach it.
public final class Guardian {
    public let pid: Int32
    private var pipe: Int32

    /// Starts `faultline guard` for a run; call before the first injection.
    public init(runId: String, stateDirectory: String, executable: String = Guardian.selfPath) throws(LedgerError) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { throw LedgerError.io("guardian pipe: \(errnoText())") }
        // Only the guardian may hold the read end, and no other child may inherit the write end.
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))
        let argv = [executable, "guard", "--run", runId, "--state-dir", stateDirectory]
        let cargs = argv.map { strdup($0) } + [nil]
        defer { for c in cargs { free(c) } }
        var pid: pid_t = 0
        Spawner.spawnLock.lock()
        let rc = posix_spawn(&pid, executable, &actions, &attr, cargs, environ)
        Spawner.spawnLock.unlock()
        close(fds[0])
        guard rc == 0 else {
            close(fds[1])
            throw LedgerError.io("start guardian '\(executable)': \(errnoText(rc))")
        }
        self.pid = pid
        self.pipe = fds[1]
    }

    /// Tells the guardian the run finished cleanly. It exits on its own; the runner does not
    /// wait for it (if the runner exits first, init reaps it).
    public func release() {
        guard pipe >= 0 else { return }
        _ = "done\n".withCString { write(pipe, $0, 5) }
        close(pipe)
        pipe = -1
        var status: Int32 = 0
        _ = waitpid(pid, &status, WNOHANG)
    }

    deinit { release() }

    /// This executable, from `/proc/self/exe`.
    public static var selfPath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// The guardian's side: wait for `done` or end-of-file on stdin; on EOF, recover the run.
    public static func serve(runId: String, stateDirectory: String) -> Int32 {
        signal(SIGINT, SIG_IGN)
        signal(SIGHUP, SIG_IGN)
        var buffer = [UInt8](repeating: 0, count: 64)
        var received: [UInt8] = []
        while true {
            let n = read(0, &buffer, buffer.count)
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            received += buffer[0..<n]
            if String(decoding: received, as: UTF8.self).contains("done") { return 0 }
        }
        let outcome = Recovery.recover(directory: stateDirectory, runId: runId, force: true)
        let text = outcome.lines.map { "faultline guard: runner of \(runId) died; \($0)" }.joined(separator: "\n")
        FileHandle.standardError.write(Data((text + "\n").utf8))
        return outcome.failures == 0 ? 0 : ExitCode.residue
    }
}
