import FaultlineCore
import Foundation
import Glibc

/// The runner's side of one host agent: starts it, renews its lease, and matches responses to
/// requests. Lease renewals go out from their own thread and never wait behind a slow request.
public final class AgentClient: @unchecked Sendable {
    public let host: String
    public private(set) var pid: pid_t = 0
    private var input: Int32 = -1
    private let writeLock = NSLock()
    private let condition = NSCondition()
    private var responses: [Int: AgentResponse] = [:]
    private var exited = false
    private var nextId = 1
    private let lease: Lease

    public struct Lease: Sendable {
        public var renewEvery: Int64 = 200_000_000
        public var expiresIn: Int64 = 1_000_000_000
        public init() {}
    }

    /// Starts `argv` (a `faultline agent` command line, possibly behind nsenter) and says hello.
    public init(host: String, argv: [String], lease: Lease = Lease()) throws(AgentError) {
        self.host = host
        self.lease = lease
        guard let toAgent = Launcher.pipe(), let fromAgent = Launcher.pipe() else {
            throw AgentError.failed(host, "pipe: \(errnoText())")
        }
        var options = Launcher.Options()
        options.stdin = .descriptor(toAgent.read)
        options.stdout = .descriptor(fromAgent.write)
        options.stderr = .descriptor(STDERR_FILENO)
        options.newGroup = true  // a Ctrl-C at the terminal reaches the runner, which decides
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
        let reader = Thread { [self] in self.read(fromAgent.read) }
        reader.start()
        let hello = try call(.hello(expiresInNs: lease.expiresIn), timeout: 10_000_000_000)
        guard hello.ok else { throw AgentError.failed(host, hello.error ?? "agent refused hello") }
        let renewer = Thread { [self] in self.renew() }
        renewer.start()
    }

    /// Sends a request and waits for its response.
    public func call(_ op: AgentRequest.Op, timeout: Int64) throws(AgentError) -> AgentResponse {
        condition.lock()
        let id = nextId
        nextId += 1
        condition.unlock()
        guard send(AgentRequest(id: id, op: op)) else { throw AgentError.failed(host, "agent is gone") }
        let deadline = Date(timeIntervalSinceNow: Double(timeout) / 1e9)
        condition.lock()
        defer { condition.unlock() }
        while responses[id] == nil, !exited {
            if !condition.wait(until: deadline) { throw AgentError.failed(host, "no answer within \(DurationText.format(timeout))") }
        }
        guard let r = responses.removeValue(forKey: id) else { throw AgentError.failed(host, "agent exited") }
        return r
    }

    /// Ends the session: the agent reverts anything still held and exits.
    public func close() {
        _ = send(AgentRequest(id: 0, op: .bye))
        writeLock.lock()
        if input >= 0 { Glibc.close(input) }
        input = -1
        writeLock.unlock()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    private func send(_ r: AgentRequest) -> Bool {
        guard let data = try? JSONEncoder.agent.encode(r) else { return false }
        let line = data + Data("\n".utf8)
        writeLock.lock()
        defer { writeLock.unlock() }
        guard input >= 0 else { return false }
        return line.withUnsafeBytes { write(input, $0.baseAddress, $0.count) } == line.count
    }

    private func renew() {
        while send(AgentRequest(id: 0, op: .lease(expiresInNs: lease.expiresIn))) {
            usleep(UInt32(lease.renewEvery / 1_000))
        }
    }

    private func read(_ fd: Int32) {
        let decoder = Journal.decoder()
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = Glibc.read(fd, &chunk, chunk.count)
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            buffer.append(contentsOf: chunk[0..<n])
            while let nl = buffer.firstIndex(of: 10) {
                let line = buffer[buffer.startIndex..<nl]
                buffer = Data(buffer[(nl + 1)...])
                guard let r = try? decoder.decode(AgentResponse.self, from: line) else { continue }
                condition.lock()
                responses[r.id] = r
                condition.broadcast()
                condition.unlock()
            }
        }
        Glibc.close(fd)
        condition.lock()
        exited = true
        condition.broadcast()
        condition.unlock()
    }
}

public enum AgentError: Error, Equatable, Sendable, CustomStringConvertible {
    case failed(String, String)
    public var description: String {
        switch self {
        case .failed(let host, let why): return "agent on '\(host)': \(why)"
        }
    }
}
