import FaultlineEssentials
import Glibc

/// One direction of a proxied connection: bytes read from `input` go through the direction's
/// toxics and are written to `output` at their due instants, in order. Events a toxic's timer
/// makes (a close or reset after a timeout) wait apart and fire at their instant.
final class ProxyStream {
    enum Direction: String, Sendable, CaseIterable {
        /// Client to server.
        case upstream
        /// Server to client.
        case downstream
    }

    let direction: Direction
    let input: Int32
    let output: Int32
    /// The toxics acting on this direction, in the order they were added.
    private(set) var chain: [(name: String, instance: any ToxicInstance)] = []
    private var queue: [StreamEvent] = []
    private var head = 0
    private(set) var queuedBytes = 0
    private var timers: [StreamEvent] = []
    /// The rest of a data event a write took only part of.
    private var partial: [UInt8] = []
    private var partialAt = 0
    var inputOpen = true
    private(set) var outputShut = false
    /// The last write would have blocked: wait for the output to be writable.
    private(set) var blocked = false

    /// Called with how long data that went through a toxic was held (written − read).
    var onHeld: ((Int64) -> Void)?

    /// Reading stops while this much is queued: the sender's own TCP window then holds it back.
    static let queueLimit = 4 << 20

    init(_ direction: Direction, input: Int32, output: Int32) {
        self.direction = direction
        self.input = input
        self.output = output
    }

    var isIdle: Bool { chain.isEmpty && head == queue.count && partial.isEmpty && !blocked }
    var wantsInput: Bool { inputOpen && queuedBytes < Self.queueLimit }
    var finished: Bool { !inputOpen && outputShut && head == queue.count && partial.isEmpty }

    /// The earliest instant something here is due (nil: nothing waits on time).
    var nextDue: Int64? {
        var t: Int64? = timers.map(\.due).min()
        if !blocked, partial.isEmpty, head < queue.count { t = min(t ?? .max, queue[head].due) }
        return t
    }

    func add(_ name: String, _ instance: any ToxicInstance, now: Int64) {
        chain.append((name, instance))
        for var e in instance.begin(now: now) {
            e.origin = name
            feed(e, from: chain.count, now: now)
        }
    }

    /// Removes a toxic: its timers are cancelled and what was queued goes out at once.
    func remove(_ name: String, now: Int64) {
        chain.removeAll { $0.name == name }
        timers.removeAll { $0.origin == name }
        for i in head..<queue.count where queue[i].due > now { queue[i].due = now }
    }

    /// An event entering the toxics at position `from` (0: the input itself).
    func feed(_ event: StreamEvent, from: Int = 0, now: Int64) {
        var events = [event]
        if from < chain.count {
            for i in from..<chain.count { events = events.flatMap { chain[i].instance.pass($0, now: now) } }
        }
        let tagged = from == 0 && !chain.isEmpty
        for var e in events {
            if tagged, e.isData { e.arrived = now }
            if e.origin != nil, e.isTimer {
                timers.append(e)
            } else {
                if case .data(let b) = e.kind { queuedBytes += b.count }
                queue.append(e)
            }
        }
    }

    enum Outcome {
        case ok
        case closeLink
        case reset
        /// The output failed (the peer is gone): reset the other side.
        case failed
    }

    /// Writes what is due by `now`, in order; fires due timers.
    func flush(now: Int64) -> Outcome {
        if let i = timers.firstIndex(where: { $0.due <= now }) {
            let t = timers.remove(at: i)
            if case .reset = t.kind { return .reset }
            return .closeLink
        }
        if !partial.isEmpty {
            switch write(partial, from: &partialAt) {
            case .some(true): partial = []
            case .some(false): return .ok
            case nil: return .failed
            }
        }
        while head < queue.count, queue[head].due <= now {
            let e = queue[head]
            head += 1
            switch e.kind {
            case .data(let bytes):
                queuedBytes -= bytes.count
                var at = 0
                switch write(bytes, from: &at) {
                case .some(true):
                    if e.arrived > 0 { onHeld?(now - e.arrived) }
                case .some(false):
                    partial = bytes
                    partialAt = at
                    compact()
                    return .ok
                case nil: return .failed
                }
            case .close:
                if !outputShut {
                    shutdown(output, Int32(SHUT_WR))
                    outputShut = true
                }
            case .closeLink:
                return .closeLink
            case .reset:
                return .reset
            }
        }
        compact()
        return .ok
    }

    /// Writes `bytes` from `at`: true when all went, false when the output would block, nil on error.
    private func write(_ bytes: [UInt8], from at: inout Int) -> Bool? {
        blocked = false
        while at < bytes.count {
            let n = bytes.withUnsafeBufferPointer { Glibc.send(output, $0.baseAddress! + at, bytes.count - at, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                at += n
                continue
            }
            if n < 0, errno == EINTR { continue }
            if n < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                blocked = true
                return false
            }
            return nil
        }
        return true
    }

    /// The fast path, with no toxic and nothing queued: write straight from the read buffer;
    /// what the output does not take now is queued. False when the output failed.
    func pass(_ buffer: UnsafeRawBufferPointer, now: Int64) -> Bool {
        var at = 0
        while at < buffer.count {
            let n = Glibc.send(output, buffer.baseAddress! + at, buffer.count - at, Int32(MSG_NOSIGNAL))
            if n > 0 {
                at += n
                continue
            }
            if n < 0, errno == EINTR { continue }
            if n < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                partial = Array(buffer[at...])
                partialAt = 0
                blocked = true
                return true
            }
            return false
        }
        return true
    }

    private func compact() {
        if head > 1024, head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        } else if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        }
    }
}
