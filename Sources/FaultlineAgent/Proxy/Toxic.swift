import FaultlineEssentials

/// Something that happens to one direction of a proxied connection, at its due instant
/// (monotonic nanoseconds): bytes written on, the direction half-closed, the whole connection
/// closed, or both peers reset.
package struct StreamEvent: Sendable {
    enum Kind: Sendable {
        case data([UInt8])
        /// The input ended: shut the output for writing once everything before it is written.
        case close
        /// Close the connection (both directions), whatever is still queued.
        case closeLink
        /// Reset both peers (RST), whatever is still queued.
        case reset
    }

    var kind: Kind
    var due: Int64
    /// The toxic whose timer made this event (nil for the stream's own): removing the toxic
    /// cancels it.
    var origin: String?
    /// When the bytes were read from the input (set for data that went through a toxic).
    var arrived: Int64 = 0

    static func data(_ b: [UInt8], _ due: Int64) -> StreamEvent { StreamEvent(kind: .data(b), due: due) }

    var isData: Bool { if case .data = kind { return true } else { return false } }
    var isTimer: Bool {
        switch kind {
        case .closeLink, .reset: return true
        default: return false
        }
    }
}

/// A toxic's attributes as the Toxiproxy API writes them: integers by name.
package typealias ToxicAttributes = [String: Int64]

/// Why a toxic's attributes are not acceptable (the API answers 400 with it).
package struct ToxicError: Error, Equatable, CustomStringConvertible {
    package var description: String
    init(_ d: String) { description = d }
}

/// One kind of toxic, in Toxiproxy's terms: its `type`, its attributes (with Toxiproxy's
/// defaults and units), and what one link's instance does to the events of its direction.
/// Each kind is a file of its own and is known only to `ToxicKinds`.
package protocol Toxic: Sendable {
    static var type: String { get }
    /// The attribute names and their defaults.
    static var defaults: ToxicAttributes { get }
    init(_ attributes: ToxicAttributes) throws(ToxicError)
    var attributes: ToxicAttributes { get }
    /// The state one connection's direction keeps for this toxic.
    func instance(seed: UInt64) -> any ToxicInstance
}

/// A toxic acting on one direction of one connection.
package protocol ToxicInstance: AnyObject {
    /// When the toxic starts acting on the link (added, or the link opened): timers it sets.
    func begin(now: Int64) -> [StreamEvent]
    /// An event entering this toxic, and what leaves it (none: dropped; several: sliced).
    func pass(_ event: StreamEvent, now: Int64) -> [StreamEvent]
}

extension ToxicInstance {
    func begin(now: Int64) -> [StreamEvent] { [] }
}

extension Toxic {
    /// Reads `given` over the defaults; unknown names, negative values and values past the
    /// attribute's bound (`ProxyToxic.maximum`: an hour, 800 gbit/s, 1 TiB) are refused, so
    /// that no arithmetic on them can overflow.
    static func read(_ given: ToxicAttributes) throws(ToxicError) -> ToxicAttributes {
        var out = defaults
        for (k, v) in given {
            guard defaults[k] != nil, let unit = ProxyToxic.unit(type, k) else {
                throw ToxicError("toxic \(type) has no attribute '\(k)' (valid: \(defaults.keys.sorted().joined(separator: ", ")))")
            }
            guard v >= 0 else { throw ToxicError("toxic \(type) attribute '\(k)' must not be negative, got \(v)") }
            let max = ProxyToxic.maximum(unit)
            guard v <= max else { throw ToxicError("toxic \(type) attribute '\(k)' must be at most \(max) (\(unit.name)), got \(v)") }
            out[k] = v
        }
        return out
    }
}

/// A stream's last due instant, so that what a toxic sends keeps its order.
struct Monotone {
    private(set) var last: Int64 = 0
    mutating func at(_ t: Int64) -> Int64 {
        last = max(last, t)
        return last
    }
}
