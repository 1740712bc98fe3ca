import Foundation

/// Renders a journal's fault windows as `annotations.json`: Grafana's annotation objects (the
/// body its HTTP API takes, `POST /api/annotations`, one per element), so that a dashboard of
/// the system under test shows when each fault held. Each is a region from the fault's
/// injection to its revert (a point when it was never reverted, a kill), in milliseconds since
/// the Unix epoch: the run's wall-clock start (`started_at`, read to the millisecond) plus the
/// journal's monotonic offsets. A stop adds a point where it was decided.
///
/// Tags: `faultline`, the fault's kind, `host:NAME`, `run:ID`; the text names the fault, its
/// target and how late it was injected. Nothing is written for a journal whose start cannot be
/// read as a UTC instant (an empty list).
public enum AnnotationsWriter {
    public struct Annotation: Codable, Equatable, Sendable {
        public var time: Int64
        public var timeEnd: Int64?
        public var tags: [String]
        public var text: String
    }

    public static func annotations(_ j: Journal) -> [Annotation] {
        guard let origin = epochMilliseconds(j.startedAt) else { return [] }
        func at(_ ns: Nanos) -> Int64 { origin + (ns + 500_000).quotientAndRemainder(dividingBy: 1_000_000).quotient }
        var out: [Annotation] = []
        for f in j.faults {
            guard let injected = f.injectedAt else { continue }
            let late = MetricsWriter.seconds(injected - f.scheduledAt)
            out.append(
                Annotation(
                    time: at(injected), timeEnd: f.revertedAt.map(at), tags: ["faultline", f.kind, "host:\(f.host)", "run:\(j.runId)"],
                    text: "\(f.name) (\(f.kind)) on \(f.host): \(f.target); injected \(late) s after its instant"
                        + (f.revertedAt == nil ? "; not reverted (nothing to undo, or the run ended first)" : "")))
        }
        if let s = j.stop {
            out.append(
                Annotation(time: at(s.at), timeEnd: nil, tags: ["faultline", "stop", "run:\(j.runId)"], text: "stopped: \(s.condition)"))
        }
        return out
    }

    /// Grafana's own key spelling (`timeEnd`), so Foundation's encoder rather than the
    /// snake_case one of faultline's files.
    public static func render(_ j: Journal) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(annotations(j)) + Data("\n".utf8)
    }

    /// `2026-11-27T00:00:00.123Z` (the fraction optional, up to milliseconds kept) as
    /// milliseconds since the epoch; nil when it is not that form.
    static func epochMilliseconds(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        func digits(_ from: Int, _ n: Int) -> Int? {
            guard from + n <= b.count else { return nil }
            var v = 0
            for c in b[from..<(from + n)] {
                guard (48...57).contains(c) else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard b.count >= 20, b[4] == 45, b[7] == 45, b[10] == 84, b[13] == 58, b[16] == 58, b.last == 90,
            let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2), let hour = digits(11, 2),
            let minute = digits(14, 2), let second = digits(17, 2), (1...12).contains(month), (1...31).contains(day), hour < 24,
            minute < 60, second < 61
        else { return nil }
        var ms = 0
        if b.count > 20 {
            let places = b.count - 21
            guard b[19] == 46, places >= 1, b[20..<(b.count - 1)].allSatisfy({ (48...57).contains($0) })
            else { return nil }
            let kept = min(places, 3)
            ms = (digits(20, kept) ?? 0) * [100, 10, 1][kept - 1]
        }
        // Days since the epoch (proleptic Gregorian; Howard Hinnant's days_from_civil).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Int64(((days * 24 + hour) * 60 + minute) * 60 + second) * 1000 + Int64(ms)
    }
}
