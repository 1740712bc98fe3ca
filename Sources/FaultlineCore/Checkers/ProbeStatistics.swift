/// Pure measurements over one probe's samples.
///
/// A sample's outcome is known when it completes (`started + latency`); a sample's state is
/// taken to hold from its start until the next sample starts. Figures are time-weighted, so a
/// slow failing sample (a timeout) weighs as much as the time it covered.
public enum ProbeStatistics {
    /// The instant sample `i` completed.
    @inline(__always)
    static func end(_ s: ProbeSeries, _ i: Int) -> Nanos { s.started[i] + s.latency[i] }

    /// The span sample `i` stands for: its start to the next start (the last: its end, or one interval).
    static func span(_ s: ProbeSeries, _ i: Int) -> Range<Nanos> {
        let stop = i + 1 < s.count ? s.started[i + 1] : max(end(s, i), s.started[i] + (s.interval ?? 0))
        return s.started[i]..<max(s.started[i], stop)
    }

    /// Time up and time observed inside (or outside) `windows`.
    ///
    /// Outside the windows, a failed sample whose request overlapped a window (in flight when a
    /// fault began, or started during one) is left out (`leftOut`): it saw the target down at
    /// some instant of its request, which may be the fault's, and the time it stands for outside
    /// the window is not the target's to lose.
    ///
    /// In any window, a failed sample whose request overlapped one of `stalls` (stretches when
    /// the runner itself was not running) is left out too (`stalled`): its latency holds the
    /// runner's stall, so its failure is no measurement of the target. A sample that succeeded
    /// through a stall is kept: the target answered.
    public static func availability(
        _ s: ProbeSeries, windows: [Range<Nanos>], inside: Bool, stalls: [Range<Nanos>] = []
    ) -> (up: Nanos, total: Nanos, samples: Int, leftOut: Nanos, stalled: Nanos) {
        var up: Nanos = 0
        var total: Nanos = 0
        var samples = 0
        var leftOut: Nanos = 0
        var stalled: Nanos = 0
        for i in 0..<s.count {
            let span = span(s, i)
            let covered = windows.reduce(Nanos(0)) { $0 + overlap(span, $1) }
            let length = inside ? covered : (span.upperBound - span.lowerBound) - covered
            guard length > 0 else { continue }
            if !s.ok[i] {
                let request = s.started[i]...end(s, i)
                let meets = { (w: Range<Nanos>) in request.lowerBound < w.upperBound && request.upperBound >= w.lowerBound }
                if stalls.contains(where: meets) {
                    stalled += length
                    continue
                }
                if !inside, windows.contains(where: meets) {
                    leftOut += length
                    continue
                }
            }
            samples += 1
            total += length
            if s.ok[i] { up += length }
        }
        return (up, total, samples, leftOut, stalled)
    }

    static func overlap(_ a: Range<Nanos>, _ b: Range<Nanos>) -> Nanos {
        max(0, min(a.upperBound, b.upperBound) - max(a.lowerBound, b.lowerBound))
    }

    /// Time from `from` to the completion of the first success after which `streak` samples in a
    /// row succeed; `nil` when the samples never show a sustained recovery.
    ///
    /// A probe that never failed after `from` recovers at once: the result is 0.
    public static func recoveryTime(_ s: ProbeSeries, from: Nanos, streak: Int) -> Nanos? {
        recovery(s, from: from, streak: streak)?.latest
    }

    /// When the recovery happened, as far as the samples can tell: after `earliest` (the start
    /// of the last failed sample before the streak, which still saw the fault) and by `latest`
    /// (the completion of the streak's first success), both from `from`. Nil when the samples
    /// never show a sustained recovery; (0, 0) when the probe never failed after `from`.
    ///
    /// The samples judged are those still running at `from`, not only those started after it:
    /// a request in flight when the fault lands meets it (one started 1 ms before a SIGSTOP
    /// times out, and counting only later ones read a 200 ms freeze as no outage at all).
    public static func recovery(_ s: ProbeSeries, from: Nanos, streak: Int) -> (earliest: Nanos, latest: Nanos)? {
        guard let first = s.started.indices.first(where: { end(s, $0) > from }) else { return nil }
        guard s.ok[first...].contains(false) else { return (0, 0) }
        var runStart: Int?
        var run = 0
        var lastFailure: Int?
        for i in first..<s.count {
            if s.ok[i] {
                if run == 0 { runStart = i }
                run += 1
                if let f = lastFailure, run >= streak, let r = runStart {
                    return (max(0, s.started[f] - from), end(s, r) - from)
                }
            } else {
                lastFailure = i
                run = 0
            }
        }
        // Recovered but the run ended before the streak completed: not enough evidence.
        return nil
    }

    /// The longest outage: from the completion of the last success before a run of failures (or
    /// the first failure's start) to the completion of the next success (or the last failure's end).
    public static func longestErrorWindow(_ s: ProbeSeries) -> (length: Nanos, start: Nanos?, atLeast: Nanos) {
        // The outage lies inside (last success before, next success after], by completion: the
        // length judged. It covers at least the first failure's end to the last failure's start
        // (each failed sample saw the target down somewhere inside it): the bracket's low end.
        var best: (Nanos, Nanos?, Nanos) = (0, nil, 0)
        var start: Nanos?
        var firstFailEnd: Nanos = 0
        var lastFailStart: Nanos = 0
        func close(_ stop: Nanos) {
            guard let st = start else { return }
            let len = stop - st
            if len > best.0 { best = (len, st, max(0, lastFailStart - firstFailEnd)) }
            start = nil
        }
        for i in 0..<s.count {
            if !s.ok[i] {
                if start == nil {
                    start = i > 0 ? end(s, i - 1) : s.started[i]
                    firstFailEnd = end(s, i)
                }
                lastFailStart = s.started[i]
            } else {
                close(end(s, i))
            }
        }
        if s.count > 0 { close(end(s, s.count - 1)) }
        return best
    }
}
