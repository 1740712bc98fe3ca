import FaultlineCore
import Foundation
import Glibc

/// An agent started as a child process, its stdin and stdout on pipes.
final class ProcessAgentChannel: AgentChannel, @unchecked Sendable {
    let pid: Int32
    let sharesClock: Bool
    private let lock = NSLock()
    private var input: Int32
    private let output: Int32
    private var buffer: [UInt8] = []
    private var reaped = false

    init(host: String, argv: [String], inherit: String? = nil, sharesClock: Bool = true) throws(AgentError) {
        self.sharesClock = sharesClock
        guard let toAgent = Launcher.pipe(), let fromAgent = Launcher.pipe() else {
            throw AgentError.failed(host, "pipe: \(errnoText())")
        }
        var options = Launcher.Options()
        options.stdin = .descriptor(toAgent.read)
        options.stdout = .descriptor(fromAgent.write)
        options.stderr = .descriptor(STDERR_FILENO)
        options.newGroup = true  // a Ctrl-C at the terminal reaches the runner, which decides
        options.inherit = inherit
        let launched = Launcher.spawn(argv, options)
        Glibc.close(toAgent.read)
        Glibc.close(fromAgent.write)
        switch launched {
        case .success(let p): pid = p
        case .failure(let f):
            Glibc.close(toAgent.write)
            Glibc.close(fromAgent.read)
            throw AgentError.failed(host, "start agent '\(argv.joined(separator: " "))': \(f.text)")
        }
        input = toAgent.write
        output = fromAgent.read
    }

    func send(_ line: [UInt8]) -> Bool {
        let bytes = line + [10]
        lock.lock()
        defer { lock.unlock() }
        guard input >= 0 else { return false }
        return bytes.withUnsafeBytes { write(input, $0.baseAddress, $0.count) } == bytes.count
    }

    /// Read by one thread only (the client's reader).
    func receive() -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let nl = buffer.firstIndex(of: 10) {
                let line = Array(buffer[..<nl])
                buffer.removeSubrange(...nl)
                return line
            }
            let n = read(output, &chunk, chunk.count)
            if n < 0, errno == EINTR { continue }
            if n <= 0 {
                Glibc.close(output)
                return nil
            }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    func close(grace: Int64) {
        lock.lock()
        if input >= 0 { Glibc.close(input) }
        input = -1
        let done = reaped
        reaped = true
        lock.unlock()
        guard !done else { return }
        let deadline = MonotonicClock.now() + grace
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid || (r < 0 && errno != EINTR) { return }
            if MonotonicClock.now() > deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                return
            }
            usleep(2_000)
        }
    }
}
