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
    /// When each lease renewal still unacknowledged went out (they are acknowledged in order).
    private var renewalsSent: [Int64] = []
    /// Clock readings: the agent's clock against this one's, newest last (the last 50).
    private var readings: [ClockReading] = []
    private let lease: Lease
    private let onLost: @Sendable (String) -> Void

    static let helloTimeout: Int64 = 60_000_000_000

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
        let sent = MonotonicClock.now()
        do {
            // Generous: over SSH the hello waits for the host to hash the agent's binary first
            // (84 MiB), which on a busy host — 32 others receiving their copy at once — took
            // over 10 s. An agent that never answers still fails the run.
            hello = try call(.hello(expiresInNs: lease.expiresIn), timeout: Self.helloTimeout)
        } catch {
            abandon()
            throw error
        }
        guard hello.ok else {
            abandon()
            throw AgentError.failed(host, hello.error ?? "agent refused hello")
        }
        if let at = hello.now {
            let reading = ClockReading(sent: sent, agent: at, received: MonotonicClock.now())
            condition.lock()
            noteLocked(reading)
            condition.unlock()
        }
        Thread { [self] in self.renew() }.start()
    }

    /// How this agent's clock maps onto the runner's: exact when they share a kernel, else the
    /// reading with the shortest round trip among the last ones (hello and lease renewals).
    public var clock: ClockMap {
        if channel.sharesClock { return .shared }
        condition.lock()
        defer { condition.unlock() }
        return ClockMap.best(readings)
    }

    /// Keeps a clock reading (the last 50); called with `condition` held.
    private func noteLocked(_ r: ClockReading) {
        readings.append(r)
        if readings.count > 50 { readings.removeFirst(readings.count - 50) }
    }

    /// Why the agent was lost, once it is.
    public var lost: String? {
        condition.lock()
        defer { condition.unlock() }
        return lostReason
    }

    /// Sends a request and waits for its response.
    public func call(_ op: AgentRequest.Op, timeout: Int64) throws(AgentError) -> AgentResponse {
        try wait(start(op), timeout: timeout)
    }

    /// Sends a request without waiting: its id, for `wait`. Armed, the agent holds it until
    /// `go` with that id. One thread can so start a request on every host of a fleet and then
    /// wait for each, with no thread per host.
    public func start(_ op: AgentRequest.Op, armed: Bool = false) throws(AgentError) -> Int {
        condition.lock()
        let id = nextId
        nextId += 1
        let gone = lostReason
        condition.unlock()
        if let gone { throw AgentError.failed(host, "agent lost: \(gone)") }
        guard send(AgentRequest(id: id, op: op, armed: armed ? true : nil)) else { throw AgentError.failed(host, "agent is gone") }
        return id
    }

    /// Performs the armed requests `ids`, all at once: a line of a few bytes, read by the agent
    /// without decoding.
    public func go(_ ids: [Int]) throws(AgentError) {
        guard channel.send(AgentRequest.go(ids)) else { throw AgentError.failed(host, "agent is gone") }
    }

    /// Waits for the response to request `id`.
    public func wait(_ id: Int, timeout: Int64) throws(AgentError) -> AgentResponse {
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
        guard let data = try? JSONText.agent.encode(r) else { return false }
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
            condition.lock()
            renewalsSent.append(MonotonicClock.now())
            condition.unlock()
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
            let received = MonotonicClock.now()
            condition.lock()
            lastHeard = received
            if r.id != 0 { responses[r.id] = r }
            if r.id == 0, !renewalsSent.isEmpty {
                let sent = renewalsSent.removeFirst()
                if let at = r.now { noteLocked(ClockReading(sent: sent, agent: at, received: received)) }
            }
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

/// One reading of an agent's clock: the runner's clock when the request went out and when the
/// answer came back, and the agent's clock when it answered, which lies between the two.
public struct ClockReading: Equatable, Sendable {
    public var sent: Int64
    public var agent: Int64
    public var received: Int64

    public init(sent: Int64, agent: Int64, received: Int64) {
        self.sent = sent
        self.agent = agent
        self.received = received
    }
}

/// How an agent's monotonic clock maps onto the runner's: `offset` is the agent's clock less
/// the runner's, known to within ± `uncertainty` (half the round trip of the reading it comes
/// from: the agent read its clock somewhere between the request leaving and the answer
/// arriving). Two machines' monotonic clocks count from their own boots, so without this an
/// instant from a remote agent would be meaningless here.
public struct ClockMap: Equatable, Sendable {
    public var offset: Int64
    public var uncertainty: Int64
    /// Whether any reading was taken (false: instants from the agent cannot be placed).
    public var known: Bool

    public static let shared = ClockMap(offset: 0, uncertainty: 0, known: true)

    /// The reading with the shortest round trip.
    public static func best(_ readings: [ClockReading]) -> ClockMap {
        guard let r = readings.min(by: { $0.received - $0.sent < $1.received - $1.sent }) else {
            return ClockMap(offset: 0, uncertainty: 0, known: false)
        }
        let half = (r.received - r.sent) / 2
        return ClockMap(offset: r.agent - (r.sent + half), uncertainty: (r.received - r.sent + 1) / 2, known: true)
    }

    /// An instant of the agent's clock on the runner's, or nil when no reading was taken.
    public func local(_ agentNs: Int64?) -> Int64? {
        guard let agentNs, known else { return nil }
        return agentNs - offset
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
