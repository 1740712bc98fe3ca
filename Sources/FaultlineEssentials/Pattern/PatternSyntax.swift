/// A regular expression as faultline's own engine reads it: the common syntax of RE2, ICU and
/// PCRE without the features that make matching exponential (backreferences, lookaround,
/// atomic groups, possessive quantifiers). What is refused is refused by name.
indirect enum PatternNode: Equatable, Sendable {
    case empty
    case scalar(UInt32)
    /// Any scalar but a newline (or any at all, with `s`).
    case any(dotAll: Bool)
    case set(ScalarSet)
    case assertion(PatternAssertion)
    case concat([PatternNode])
    case alternate([PatternNode])
    /// `max` nil: unbounded.
    case repetition(PatternNode, min: Int, max: Int?)
}

enum PatternAssertion: Equatable, Sendable {
    case textStart, textEnd, lineStart, lineEnd, wordBoundary, notWordBoundary
}

/// A set of Unicode scalars as sorted, disjoint ranges.
struct ScalarSet: Equatable, Sendable {
    var ranges: [ClosedRange<UInt32>]

    init(_ ranges: [ClosedRange<UInt32>]) { self.ranges = Self.normalised(ranges) }

    func contains(_ c: UInt32) -> Bool {
        var lo = 0
        var hi = ranges.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            if c < ranges[mid].lowerBound {
                hi = mid - 1
            } else if c > ranges[mid].upperBound {
                lo = mid + 1
            } else {
                return true
            }
        }
        return false
    }

    var inverted: ScalarSet {
        var out: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for r in ranges {
            if r.lowerBound > next { out.append(next...(r.lowerBound - 1)) }
            next = r.upperBound + 1
        }
        if next <= 0x10FFFF { out.append(next...0x10FFFF) }
        return ScalarSet(out)
    }

    /// How many scalars it holds.
    var count: Int { ranges.reduce(0) { $0 + Int($1.upperBound - $1.lowerBound) + 1 } }

    /// Each range with its other-case scalars added (every scalar of ranges up to 4,096 wide;
    /// the ASCII part of wider ones).
    var caseFolded: ScalarSet {
        var out = ranges
        for r in ranges {
            let span = r.upperBound - r.lowerBound
            let scan = span <= 4_096 ? r : r.lowerBound...min(r.upperBound, 0x7F)
            guard scan.lowerBound <= scan.upperBound else { continue }
            for c in scan { for o in PatternCase.others(c) { out.append(o...o) } }
        }
        return ScalarSet(out)
    }

    static func normalised(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = out.last, UInt64(r.lowerBound) <= UInt64(last.upperBound) + 1 {
                out[out.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
            } else {
                out.append(r)
            }
        }
        return out
    }

    static let digit = ScalarSet([48...57])
    static let word = ScalarSet([48...57, 65...90, 95...95, 97...122])
    static let space = ScalarSet([9...13, 32...32])
}

/// Simple case mapping for `(?i)`: a scalar's other cases, when each is one scalar.
enum PatternCase {
    static func others(_ c: UInt32) -> [UInt32] {
        if c < 0x80 {
            if (65...90).contains(c) { return [c + 32] }
            if (97...122).contains(c) { return [c - 32] }
            return []
        }
        guard let u = Unicode.Scalar(c) else { return [] }
        var out: [UInt32] = []
        for mapped in [u.properties.lowercaseMapping, u.properties.uppercaseMapping, u.properties.titlecaseMapping] {
            let scalars = Array(mapped.unicodeScalars)
            if scalars.count == 1, scalars[0].value != c, !out.contains(scalars[0].value) { out.append(scalars[0].value) }
        }
        return out
    }
}

/// Why a pattern cannot be used: the message names the construct and where it is.
public struct PatternError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 1-based position (in characters) of the construct in the pattern.
    public var offset: Int
    public var message: String
    public var description: String { "\(message) (at character \(offset))" }
}
