/// Stale reads of single-value registers. Pure.
///
/// A read of key k that returned the value of write w is stale when another acknowledged
/// write w' to k was invoked after w completed and completed before the read was invoked:
/// w' definitely replaced w before the read began. A read that returned nothing is stale
/// when any acknowledged write to its key had completed before it began. Values are unique,
/// so each read names exactly one write. Reads of values no write produced are counted apart.
public enum StaleReadChecker {
    public struct Report: Equatable, Sendable {
        public var reads: Int
        public var stale: [History.Op]
        /// Reads that returned a value no operation wrote.
        public var foreign: [History.Op]
    }

    public static func check(_ ops: [History.Op]) -> Report {
        var writesByValue: [String: History.Op] = [:]
        // Per key: acknowledged writes by completion, with the latest invocation so far.
        var acked: [String: [(completed: Nanos, invoked: Nanos)]] = [:]
        for op in ops where op.kind == .write && op.outcome != .fail {
            writesByValue[op.value] = op
            if op.outcome == .ok { acked[op.key, default: []].append((op.completedAt, op.invokedAt)) }
        }
        var latestInvoke: [String: [Nanos]] = [:]
        for (k, list) in acked {
            let sorted = list.sorted { $0.completed < $1.completed }
            acked[k] = sorted
            var running = Nanos.min
            latestInvoke[k] = sorted.map {
                running = max(running, $0.invoked)
                return running
            }
        }
        var report = Report(reads: 0, stale: [], foreign: [])
        for r in ops where r.kind == .read && r.outcome == .ok {
            report.reads += 1
            let written = writesByValue[r.value]
            if !r.value.isEmpty, written?.key != r.key {
                report.foreign.append(r)
                continue
            }
            let list = acked[r.key] ?? []
            // The writes that completed before the read began: a prefix of `list`.
            var lo = 0
            var hi = list.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if list[mid].completed < r.invokedAt { lo = mid + 1 } else { hi = mid }
            }
            guard lo > 0 else { continue }
            let newest = latestInvoke[r.key]?[lo - 1] ?? .min
            if let w = written {
                if newest > w.completedAt { report.stale.append(r) }
            } else {
                report.stale.append(r)
            }
        }
        return report
    }

    public static func checks(_ ops: [History.Op], max: Int, origin: Nanos, name: String) -> CheckResult {
        let r = check(ops)
        var evidence = "\(r.reads) successful reads"
        if let first = r.stale.first {
            evidence +=
                "; first stale: \(first.key) read '\(first.value.isEmpty ? "(nothing)" : first.value)' from \(first.endpoint) at +\(DurationText.format(first.invokedAt - origin))"
        }
        if !r.foreign.isEmpty { evidence += "; \(r.foreign.count) read(s) returned values no operation wrote" }
        return CheckResult(
            name: name, passed: r.stale.count <= max && r.foreign.isEmpty && r.reads > 0, expected: "≤ \(max)",
            measured: r.reads == 0 ? "no successful read" : "\(r.stale.count)", evidence: evidence)
    }
}
