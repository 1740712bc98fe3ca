import FaultlineCore
import FaultlineLinux
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

@Suite("faultline agent")
struct AgentTests {
    /// Writes one request line to the agent.
    func send(_ fd: Int32, _ r: AgentRequest) throws {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        let line = try e.encode(r) + Data("\n".utf8)
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    @Test("an agent whose reader is gone still injects, and reverts on end of input")
    func deadReader() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let victim = try Child(["sleep", "66"])
        defer { victim.stop() }
        var toAgent: [Int32] = [0, 0]
        var fromAgent: [Int32] = [0, 0]
        #expect(pipe(&toAgent) == 0 && pipe(&fromAgent) == 0)
        // Only the dup2'ed copies may reach the agent, or it would hold its own stdin open.
        for fd in toAgent + fromAgent { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let agent = try Spawned(
            [FaultlineBinary.path, "agent", "--run", "t", "--state-dir", "\(dir)/state"], stderr: "\(dir)/stderr", stdinFd: toAgent[0],
            stdoutFd: fromAgent[1])
        defer { agent.stop() }
        close(toAgent[0])
        close(fromAgent[1])
        close(fromAgent[0])  // nobody will ever read the agent's answers
        try send(toAgent[1], AgentRequest(id: 1, op: .hello(expiresInNs: 60_000_000_000)))
        let pause = AnyFaultWork(PauseFault(ProcessTarget(selector: .pid(victim.pid))))
        try send(
            toAgent[1],
            AgentRequest(id: 2, op: .inject(name: "freeze", work: pause, ttlNs: 60_000_000_000, confirmTimeoutNs: 2_000_000_000)))
        try waitUntil(5) { processState(victim.pid) == "T" }
        close(toAgent[1])
        try waitUntil(2) { processState(victim.pid) != "T" }
        #expect(agent.wait() == 0)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/state")) ?? ["?"]).isEmpty)
    }
}
