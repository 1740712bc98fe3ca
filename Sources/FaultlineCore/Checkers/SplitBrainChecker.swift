/// Split brain: two endpoints acknowledging writes as primaries at the same time. Pure.
///
/// Only definite real-time order counts (an operation "precedes" another when it completed
/// before the other was invoked), so slow in-flight writes around a clean failover are not
/// mistaken for one. A window is reported when an older primary X acknowledges a write that
/// was invoked after the newer primary Y's first acknowledgement, and Y acknowledges again after
/// that write completed: X and Y took turns, so both were accepting writes. A double failover
/// (X, then Y, then X again for good) is not a split brain and is not reported.
public enum SplitBrainChecker {
    public struct Window: Equatable, Sendable {
        /// The endpoint that acknowledged first and kept acknowledging.
        public var older: String
        public var newer: String
        public var from: Nanos
        public var to: Nanos
        /// Writes the older endpoint acknowledged inside the window.
        public var olderAcks: Int
    }

    public static func check(_ ops: [History.Op]) -> [Window] {
        var byEndpoint: [String: [History.Op]] = [:]
        for op in ops where op.kind == .write && op.outcome == .ok { byEndpoint[op.endpoint, default: []].append(op) }
        let firsts = byEndpoint.mapValues { $0.map(\.completedAt).min() ?? 0 }
        let lastInvokes = byEndpoint.mapValues { $0.map(\.invokedAt).max() ?? 0 }
        var windows: [Window] = []
        for (x, xs) in byEndpoint {
            for (y, firstY) in firsts where y != x && firstY > firsts[x] ?? 0 {
                let lastYInvoke = lastInvokes[y] ?? 0
                let inside = xs.filter { $0.invokedAt > firstY && $0.completedAt < lastYInvoke }
                guard let end = inside.map(\.completedAt).max() else { continue }
                windows.append(Window(older: x, newer: y, from: firstY, to: end, olderAcks: inside.count))
            }
        }
        return windows.sorted { ($0.from, $0.older) < ($1.from, $1.older) }
    }

    public static func checks(_ ops: [History.Op], allowed: Bool, origin: Nanos, name: String) -> CheckResult {
        let windows = check(ops)
        let longest = windows.map { $0.to - $0.from }.max() ?? 0
        let evidence =
            windows.isEmpty
            ? "no endpoint acknowledged a write after a newer primary had, while that one kept acknowledging"
            : windows.prefix(3).map {
                "\($0.older) acknowledged \($0.olderAcks) writes from +\(DurationText.format($0.from - origin)) to +\(DurationText.format($0.to - origin)) while \($0.newer) was acknowledging"
            }.joined(separator: "; ")
        return CheckResult(
            name: name, passed: allowed || windows.isEmpty, expected: allowed ? "measured only" : "none",
            measured: windows.isEmpty ? "none" : "\(windows.count) window(s), longest \(DurationText.format(longest))",
            evidence: evidence)
    }
}
