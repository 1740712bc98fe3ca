import FaultlineCore
import Foundation

/// An agent channel with no process behind it: each request line goes to `handler`, which
/// answers with zero or more response lines. For testing the runner without root, real agents
/// or timing (in the manner of SwiftNIO's `EmbeddedChannel`).
public final class InMemoryAgentChannel: AgentChannel, @unchecked Sendable {
    public let pid: Int32 = 0
    public let sharesClock: Bool
    private let condition = NSCondition()
    private var pending: [[UInt8]] = []
    private var closed = false
    private let serial = NSLock()
    private let handler: @Sendable ([UInt8]) -> [[UInt8]]

    /// `handler` runs on the sender's thread, one request at a time.
    public init(sharesClock: Bool = true, handler: @escaping @Sendable ([UInt8]) -> [[UInt8]]) {
        self.sharesClock = sharesClock
        self.handler = handler
    }

    public func send(_ line: [UInt8]) -> Bool {
        condition.lock()
        guard !closed else {
            condition.unlock()
            return false
        }
        condition.unlock()
        serial.lock()
        let answers = handler(line)
        serial.unlock()
        condition.lock()
        pending += answers
        condition.broadcast()
        condition.unlock()
        return true
    }

    public func receive() -> [UInt8]? {
        condition.lock()
        defer { condition.unlock() }
        while pending.isEmpty, !closed { condition.wait() }
        return pending.isEmpty ? nil : pending.removeFirst()
    }

    /// Ends the channel as an agent's exit does: the reader sees its end, sends fail.
    public func close(grace: Int64) {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Whether the runner closed it.
    public var isClosed: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closed
    }
}
