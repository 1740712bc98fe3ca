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
        guard let (readFd, writeFd) = Launcher.pipe() else { throw LedgerError.io("guardian pipe: \(errnoText())") }
        // Its own process group: a Ctrl-C aimed at the runner must not reach the guardian.
        var options = Launcher.Options()
        options.stdin = .descriptor(readFd)
        options.stdout = .descriptor(STDERR_FILENO)
        options.newGroup = true
        let launched = Launcher.spawn([executable, "guard", "--run", runId, "--state-dir", stateDirectory], options)
        close(readFd)
        switch launched {
        case .success(let p): pid = p
        case .failure(let f):
            close(writeFd)
            throw LedgerError.io("start guardian '\(executable)': \(f.text)")
        }
        self.pipe = writeFd
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
