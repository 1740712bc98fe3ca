import FoundationEssentials

/// A span or an instant on the monotonic clock, in nanoseconds.
public typealias Nanos = Int64

/// Parsing and printing of human durations such as `250ms`, `5s`, `2m`, `1h30m`.
public enum DurationText {
    private static let units: [(suffix: String, nanos: Int64)] = [
        ("ns", 1), ("us", 1_000), ("µs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000),
        ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ]

    /// Why a text is not an acceptable duration.
    public enum Problem: Error, Equatable, Sendable {
        case notADuration
        case negative
        /// Beyond `bound` (the key's own, or ``ceiling``).
        case tooLarge(bound: Nanos)
        /// A unit repeated, or a smaller one before a larger (`1s1s`, `30s1m`).
        case unitsOutOfOrder
    }

    /// No duration is longer than this: a week. Sums of a few of them stay far inside Int64.
    public static let ceiling: Nanos = 7 * 24 * 3_600_000_000_000

    /// Parses `text` into nanoseconds, at most `max`.
    ///
    /// A duration is one or more `NUMBER UNIT` parts, each unit at most once and the largest
    /// first (`1m30s`, `1.5s`); `0` alone is allowed.
    public static func read(_ text: String, max: Nanos = ceiling) -> Result<Nanos, Problem> {
        let s = text.trimmingSpaces
        if s == "0" { return .success(0) }
        if s.hasPrefix("-"), case .success = read(String(s.dropFirst()), max: .max) { return .failure(.negative) }
        var rest = Substring(s)
        var total: Double = 0
        var lastUnit = Int64.max
        guard !rest.isEmpty else { return .failure(.notADuration) }
        while !rest.isEmpty {
            let number = rest.prefix { ($0 >= "0" && $0 <= "9") || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return .failure(.notADuration) }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { $0.isLetter || $0 == "µ" }
            guard let unit = units.first(where: { $0.suffix == String(unitText) }) else { return .failure(.notADuration) }
            rest = rest.dropFirst(unitText.count)
            guard unit.nanos < lastUnit else { return .failure(.unitsOutOfOrder) }
            lastUnit = unit.nanos
            total += value * Double(unit.nanos)
        }
        let bound = min(max, ceiling)
        guard total.isFinite, total <= Double(bound) else { return .failure(.tooLarge(bound: bound)) }
        return .success(Nanos(total.rounded()))
    }

    /// `read`, as an optional.
    public static func parse(_ text: String) -> Nanos? { try? read(text).get() }

    /// Formats nanoseconds compactly: `0s`, `850µs`, `12.3ms`, `4.25s`, `2m5s`, `3h20m`, `27h46m41s`.
    public static func format(_ ns: Nanos) -> String {
        if ns == 0 { return "0s" }
        let sign = ns < 0 ? "-" : ""
        let a = ns.magnitude
        if a < 1_000 { return "\(sign)\(a)ns" }
        if a < 1_000_000 { return sign + trim(Double(a) / 1e3) + "µs" }
        if a < 1_000_000_000 { return sign + trim(Double(a) / 1e6) + "ms" }
        if a < 60_000_000_000 { return sign + trim(Double(a) / 1e9) + "s" }
        if a < 3_600_000_000_000 {
            let minutes = a / 60_000_000_000
            let seconds = Double(a % 60_000_000_000) / 1e9
            return "\(sign)\(minutes)m" + (seconds > 0 ? trim(seconds) + "s" : "")
        }
        let hours = a / 3_600_000_000_000
        let minutes = (a % 3_600_000_000_000) / 60_000_000_000
        let seconds = Double(a % 60_000_000_000) / 1e9
        return "\(sign)\(hours)h" + (minutes > 0 ? "\(minutes)m" : "") + (seconds > 0 ? trim(seconds) + "s" : "")
    }

    /// Up to three decimals below 10 (two below 100, one above), trailing zeros dropped.
    package static func trim(_ v: Double) -> String {
        let digits = v >= 100 ? 1 : v >= 10 ? 2 : 3
        var s = fixed(v, digits)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }
}

/// An operation rate such as `200/s` or `5/ms`.
public struct Rate: Equatable, Sendable, CustomStringConvertible {
    /// Operations per second.
    public let perSecond: Double

    public init(perSecond: Double) { self.perSecond = perSecond }

    /// Parses `N/s`, `N/ms`, `N/m`, `N/h` (also `N/1s`-style durations); `nil` otherwise.
    public static func parse(_ text: String) -> Rate? {
        let parts = text.trimmingSpaces.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let count = Double(parts[0].trimmingSpaces), count > 0,
            count.isFinite
        else { return nil }
        let unit = parts[1].trimmingSpaces
        let per = DurationText.parse(unit.first?.isNumber == true ? unit : "1" + unit)
        guard let per, per > 0 else { return nil }
        return Rate(perSecond: count * 1e9 / Double(per))
    }

    /// Interval between operations in nanoseconds.
    public var interval: Nanos { Nanos((1e9 / perSecond).rounded()) }

    public var description: String { DurationText.trim(perSecond) + "/s" }
}

/// A percentage such as `99.9%`, kept as a fraction in 0...1.
public enum PercentText {
    /// Parses `99%`, `99.95%` or a bare fraction `0.99`; `nil` when out of 0...100%.
    public static func parse(_ text: String) -> Double? {
        let s = text.trimmingSpaces
        if s.hasSuffix("%") {
            guard let v = Double(s.dropLast()), v >= 0, v <= 100 else { return nil }
            return v / 100
        }
        guard let v = Double(s), v >= 0, v <= 1 else { return nil }
        return v
    }

    /// Formats a fraction as a percentage with up to three decimals: `99.95%`.
    public static func format(_ fraction: Double) -> String {
        var s = fixed(fraction * 100, 3)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s + "%"
    }
}

/// The bounds of the settings and timeouts an experiment may set, each stated in the message
/// that refuses a value beyond it. Every duration is also at most ``DurationText/ceiling``.
public enum Bounds {
    public static let minute: Nanos = 60_000_000_000
    public static let tenMinutes: Nanos = 10 * minute
    public static let hour: Nanos = 60 * minute
    /// Workload rates: from one an hour to a million a second.
    public static let minRate = 1.0 / 3600
    public static let maxRate = 1_000_000.0
    /// A workload records every operation (about 100 bytes each): at most this many in a run.
    public static let maxOperations = 10_000_000.0
    /// Continuous probes record every sample (about 210 bytes each): at most this many in a run.
    public static let maxSamples = 5_000_000.0
    /// The runner renews leases at least this far apart, and a lease lasts at least this long:
    /// a renewal every nanosecond, or a lease shorter than the agent's 10 ms watch, would end
    /// every lease at once and report residue with nothing injected.
    public static let minLeaseRenew: Nanos = 10_000_000
    public static let minLeaseExpiry: Nanos = 100_000_000
}
