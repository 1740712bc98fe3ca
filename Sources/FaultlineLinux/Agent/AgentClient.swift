import FaultlineCore
import Foundation
import Glibc

/// The runner's side of one host agent: says hello over its channel, renews its lease, and
/// matches responses to requests. Renewals go out from their own thread and never wait behind
/// a slow request; the agent acknowledges each, and an agent that stays silent for longer than
/// its lease (or whose channel ends) is *lost*: its lease reverts what it held.
public final class AgentClient: @unchecked Sendable {
    public let host: String
    public var pid: Int32 { channel.pid }
    private let channel: any AgentChannel
    private let condition = NSCondition()
    private var responses: [Int: AgentResponse] = [:]
    private var ended = false
    private var closing = false
    private var lostReason: String?
    private var lastHeard = MonotonicClock.now()
    private var nextId = 1
    private let lease: Lease
    private let onLost: @Sendable (String) -> Void

    public struct Lease: Sendable {
        public var renewEvery: Int64 = 200_000_000
        public var expiresIn: Int64 = 1_000_000_000
        public init() {}
    }

    /// Says hello on `channel` and starts renewing the lease; `onLost` is called once, with the
    /// reason, if the agent is lost before `close`.
    public init(
        host: String, channel: any AgentChannel, lease: Lease = Lease(), onLost: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(AgentError) {
        self.host = host
        self.channel = channel
        self.lease = lease
        self.onLost = onLost
        Thread { [self] in self.read() }.start()
        let hello: AgentResponse
        do {
            hello = try call(.hello(expiresInNs: lease.expiresIn), timeout: 10_000_000_000)
        } catch {
            abandon()
            throw error
        }
        guard hello.ok else {
            abandon()
            throw AgentError.failed(host, hello.error ?? "agent refused hello")
        }
        Thread { [self] in self.renew() }.start()
    }

    /// Why the agent was lost, once it is.
    public var lost: String? {
        condition.lock()
        defer { condition.unlock() }
        return lostReason
    }

    /// Sends a request and waits for its response.
    public func call(_ op: AgentRequest.Op, timeout: Int64) throws(AgentError) -> AgentResponse {
        condition.lock()
        let id = nextId
        nextId += 1
        let gone = lostReason
        condition.unlock()
        if let gone { throw AgentError.failed(host, "agent lost: \(gone)") }
        guard send(AgentRequest(id: id, op: op)) else { throw AgentError.failed(host, "agent is gone") }
        let deadline = Date(timeIntervalSinceNow: Double(timeout) / 1e9)
        condition.lock()
        defer { condition.unlock() }
        while responses[id] == nil, !ended {
            if !condition.wait(until: deadline) { throw AgentError.failed(host, "no answer within \(DurationText.format(timeout))") }
        }
        guard let r = responses.removeValue(forKey: id) else { throw AgentError.failed(host, "agent exited") }
        return r
    }

    /// Ends the session: the agent reverts anything still held and exits.
    public func close() {
        condition.lock()
        closing = true
        condition.unlock()
        _ = send(AgentRequest(id: 0, op: .bye))
        channel.close(grace: 30_000_000_000)
    }

    /// A session that never started: closed without reporting the agent lost.
    private func abandon() {
        condition.lock()
        closing = true
        condition.unlock()
        channel.close(grace: 1_000_000_000)
    }

    private func send(_ r: AgentRequest) -> Bool {
        guard let data = try? JSONEncoder.agent.encode(r) else { return false }
        return channel.send(Array(data))
    }

    private func renew() {
        while true {
            condition.lock()
            let stop = closing || lostReason != nil
            let silent = MonotonicClock.now() - lastHeard
            condition.unlock()
            if stop { return }
            // The agent lapses `expiresIn` after the last renewal it heard; one renewal period
            // more of silence here means it has not acknowledged any for longer than that.
            if silent > lease.expiresIn + lease.renewEvery {
                declareLost("no answer to lease renewals for \(DurationText.format(silent))")
                return
            }
            guard send(AgentRequest(id: 0, op: .lease(expiresInNs: lease.expiresIn))) else {
                declareLost("its channel is closed")
                return
            }
            usleep(UInt32(lease.renewEvery / 1_000))
        }
    }

    /// Marks the agent lost and closes its channel, so that it reverts (if it has not already).
    private func declareLost(_ reason: String) {
        condition.lock()
        guard !closing, lostReason == nil else {
            condition.unlock()
            return
        }
        lostReason = reason
        condition.broadcast()
        condition.unlock()
        onLost(reason)
        // Whatever it still holds, it now reverts: its input ends, as its lease already has.
        channel.close(grace: lease.expiresIn)
    }

    private func read() {
        let decoder = Journal.decoder()
        while let line = channel.receive() {
            guard let r = try? decoder.decode(AgentResponse.self, from: Data(line)) else { continue }
            condition.lock()
            lastHeard = MonotonicClock.now()
            if r.id != 0 { responses[r.id] = r }
            condition.broadcast()
            condition.unlock()
        }
        condition.lock()
        ended = true
        condition.broadcast()
        condition.unlock()
        declareLost("the agent exited")
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
