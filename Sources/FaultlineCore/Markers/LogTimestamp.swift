import Glibc

/// The instant a log line says it was written, read from the line itself: the first timestamp
/// in it, in one of the forms servers write —
///
/// - ISO 8601 and its log variants: `2026-12-07T22:37:01.123456Z`, `2026-12-07 22:37:01.123 UTC`
///   (PostgreSQL's `%m`), `2026-12-07T22:37:01.123+01:00` (etcd's zap logger), or without a
///   zone (`2026-12-07 22:37:01.123456`, etcd's capnslog), which is local time;
/// - Redis's `07 Dec 2026 22:37:01.123` (local time).
///
/// The resolution is what the fraction's digits give (a line with whole seconds is ± 1 s):
/// a marker says how sure it is, never more than its line is.
public struct LogTimestamp: Equatable, Sendable {
    /// Nanoseconds since the Unix epoch (UTC).
    public var epochNs: Int64
    /// How long one unit of the last digit written is: the line says the instant to within it
    /// (it was written at or after `epochNs`, before `epochNs + resolutionNs`).
    public var resolutionNs: Int64

    public init(epochNs: Int64, resolutionNs: Int64) {
        self.epochNs = epochNs
        self.resolutionNs = resolutionNs
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The first timestamp in `line`, or nil when it has none this reader knows. `localOffset`
    /// turns a time without a zone into UTC (seconds east of UTC at that time; by default the
    /// zone of this process, as the lab's services share it).
    public static func parse(_ line: String, localOffset: ((Int64) -> Int64)? = nil) -> LogTimestamp? {
        let b = Array(line.utf8.prefix(512))
        var i = 0
        while i < b.count {
            if let t = iso(b, i, localOffset) ?? redis(b, i, localOffset) { return t }
            i += 1
        }
        return nil
    }

    // MARK: forms

    /// `YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|±HH:MM|±HHMM| UTC| GMT]`
    static func iso(_ b: [UInt8], _ at: Int, _ local: ((Int64) -> Int64)?) -> LogTimestamp? {
        var i = at
        guard at == 0 || !isDigit(b[at - 1]), let y = digits(b, &i, 4), char(b, &i, "-"), let mo = digits(b, &i, 2), char(b, &i, "-"),
            let d = digits(b, &i, 2), i < b.count, b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: " ")
        else { return nil }
        i += 1
        guard let (secs, frac) = clock(b, &i), let day = civilDay(y, mo, d) else { return nil }
        var utc = day * 86_400 + secs
        switch zone(b, &i) {
        case .some(let east): utc -= east
        case nil: utc -= (local ?? localZoneOffset)(utc)
        }
        return LogTimestamp(epochNs: utc * 1_000_000_000 + frac.ns, resolutionNs: frac.resolution)
    }

    /// Redis: `DD Mon YYYY HH:MM:SS.mmm`.
    static func redis(_ b: [UInt8], _ at: Int, _ local: ((Int64) -> Int64)?) -> LogTimestamp? {
        var i = at
        guard at == 0 || b[at - 1] == UInt8(ascii: " "), let d = digits(b, &i, 2), char(b, &i, " "), i + 3 <= b.count else { return nil }
        let name = String(decoding: b[i..<i + 3], as: UTF8.self)
        guard let m = months.firstIndex(of: name) else { return nil }
        i += 3
        guard char(b, &i, " "), let y = digits(b, &i, 4), char(b, &i, " "), let (secs, frac) = clock(b, &i),
            let day = civilDay(y, m + 1, d)
        else { return nil }
        var utc = day * 86_400 + secs
        utc -= (local ?? localZoneOffset)(utc)
        return LogTimestamp(epochNs: utc * 1_000_000_000 + frac.ns, resolutionNs: frac.resolution)
    }

    // MARK: pieces

    struct Fraction {
        var ns: Int64 = 0
        var resolution: Int64 = 1_000_000_000
    }

    /// `HH:MM:SS[.frac]` (or `,frac`): seconds into the day, and the fraction.
    static func clock(_ b: [UInt8], _ i: inout Int) -> (Int64, Fraction)? {
        guard let h = digits(b, &i, 2), char(b, &i, ":"), let m = digits(b, &i, 2), char(b, &i, ":"), let s = digits(b, &i, 2),
            h < 24, m < 60, s < 61
        else { return nil }
        var f = Fraction()
        if i < b.count, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: ",") {
            var j = i + 1
            var n: Int64 = 0
            var count = 0
            while j < b.count, isDigit(b[j]) {
                if count < 9 {
                    n = n * 10 + Int64(b[j] - 48)
                    count += 1
                }
                j += 1
            }
            if count > 0 {
                var scale: Int64 = 1
                for _ in count..<9 { scale *= 10 }
                f = Fraction(ns: n * scale, resolution: scale)
                i = j
            }
        }
        return (Int64(h * 3_600 + m * 60 + s), f)
    }

    /// Seconds east of UTC the zone after a time says, or nil when it says none.
    static func zone(_ b: [UInt8], _ i: inout Int) -> Int64? {
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "Z") { return 0 }
        if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign: Int64 = b[i] == UInt8(ascii: "+") ? 1 : -1
            var j = i + 1
            guard let h = digits(b, &j, 2) else { return nil }
            _ = char(b, &j, ":")
            let m = digits(b, &j, 2) ?? 0
            return sign * Int64(h * 3_600 + m * 60)
        }
        for word in [" UTC", " GMT"] {
            let w = Array(word.utf8)
            if i + w.count <= b.count, Array(b[i..<i + w.count]) == w, i + w.count == b.count || !isLetter(b[i + w.count]) { return 0 }
        }
        return nil
    }

    static func digits(_ b: [UInt8], _ i: inout Int, _ n: Int) -> Int? {
        guard i + n <= b.count else { return nil }
        var v = 0
        for k in i..<i + n {
            guard isDigit(b[k]) else { return nil }
            v = v * 10 + Int(b[k] - 48)
        }
        i += n
        return v
    }

    static func char(_ b: [UInt8], _ i: inout Int, _ c: Unicode.Scalar) -> Bool {
        guard i < b.count, b[i] == UInt8(ascii: c) else { return false }
        i += 1
        return true
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    static func isLetter(_ c: UInt8) -> Bool { (c | 0x20) >= 97 && (c | 0x20) <= 122 }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm), or
    /// nil for a date that does not exist.
    static func civilDay(_ y0: Int, _ m: Int, _ d: Int) -> Int64? {
        guard (1...12).contains(m), (1...31).contains(d) else { return nil }
        let y = Int64(m <= 2 ? y0 - 1 : y0)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64((m + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(d) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// This process's zone offset (seconds east of UTC) at the UTC instant `t` — near enough
    /// for a local time read as if UTC (off only within an hour of a change of offset).
    public static func localZoneOffset(_ t: Int64) -> Int64 {
        var time = time_t(t)
        var tm = Glibc.tm()
        guard localtime_r(&time, &tm) != nil else { return 0 }
        return Int64(tm.tm_gmtoff)
    }
}
