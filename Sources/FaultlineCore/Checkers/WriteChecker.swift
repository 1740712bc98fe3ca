import Dispatch

/// Lost acknowledged writes, RPO and replica convergence, from a set-workload history. Pure
/// (the replicas are compared in parallel with the walk over the operations; no shared state).
public enum WriteChecker {
    public struct Report: Equatable, Sendable {
        public var acknowledged: Int
        public var unknown: Int
        public var failed: Int
        /// Acknowledged, and absent from the final primary's state.
        public var lost: [History.Op]
        /// Unknown outcome and present: applied although never acknowledged (not a loss).
        public var unknownApplied: Int
        /// From the first to the last acknowledgement of a lost write; 0 when nothing was lost.
        public var rpo: Nanos
        /// Replicas whose final state differs from the primary's, with how.
        public var divergent: [String: String]

        /// The outcome counts, as evidence.
        public var counts: String {
            "\(acknowledged) acknowledged, \(unknown) unknown (\(unknownApplied) of them applied), \(failed) failed"
        }
    }

    public static func check(_ h: History) -> Report {
        // Each value of the primary's final state, numbered once; the rest is lookups.
        let primaryValues = h.finalPrimary.flatMap { h.finalReads[$0] } ?? []
        var index = [String: Int](minimumCapacity: primaryValues.count)
        for v in primaryValues where index[v] == nil { index[v] = index.count }
        // The walk over the operations and each replica's comparison only read `index`: run
        // them side by side.
        let replicas = h.finalReads.filter { $0.key != h.finalPrimary }.sorted { $0.key < $1.key }
        let results = Results(count: replicas.count)
        let frozen = index
        DispatchQueue.concurrentPerform(iterations: replicas.count + 1) { task in
            if task == 0 {
                results.walk = walk(h.ops, frozen)
            } else {
                let (endpoint, values) = replicas[task - 1]
                results.divergence[task - 1] = values == primaryValues ? nil : compare(values, frozen).map { (endpoint, $0) }
            }
        }
        var (acknowledged, unknown, failed, unknownApplied, lost) = results.walk
        lost.sort { $0.completedAt < $1.completedAt }
        let rpo = lost.isEmpty ? 0 : (lost.last?.completedAt ?? 0) - (lost.first?.completedAt ?? 0)
        var divergent: [String: String] = [:]
        for case (let endpoint, let how)? in results.divergence { divergent[endpoint] = how }
        return Report(
            acknowledged: acknowledged, unknown: unknown, failed: failed, lost: lost, unknownApplied: unknownApplied, rpo: rpo,
            divergent: divergent)
    }

    typealias Walk = (acknowledged: Int, unknown: Int, failed: Int, unknownApplied: Int, lost: [History.Op])

    /// Each task writes only its own slot.
    private final class Results: @unchecked Sendable {
        var walk: Walk = (0, 0, 0, 0, [])
        var divergence: [(String, String)?]
        init(count: Int) { divergence = Array(repeating: nil, count: count) }
    }

    static func walk(_ ops: [History.Op], _ index: [String: Int]) -> Walk {
        var w: Walk = (0, 0, 0, 0, [])
        for op in ops where op.kind == .write {
            switch op.outcome {
            case .ok:
                w.acknowledged += 1
                if index[op.value] == nil { w.lost.append(op) }
            case .unknown:
                w.unknown += 1
                if index[op.value] != nil { w.unknownApplied += 1 }
            case .fail:
                w.failed += 1
            }
        }
        return w
    }

    /// How a replica's values differ from the primary's (numbered by `index`); nil when equal
    /// as sets with the same multiplicity.
    static func compare(_ values: [String], _ index: [String: Int]) -> String? {
        var seen = [Bool](repeating: false, count: index.count)
        var extra = 0
        var duplicated = 0
        for v in values {
            guard let i = index[v] else {
                extra += 1
                continue
            }
            if seen[i] { duplicated += 1 } else { seen[i] = true }
        }
        let missing = seen.lazy.filter { !$0 }.count
        guard missing > 0 || extra > 0 || duplicated > 0 else { return nil }
        return "\(missing) missing, \(extra) not on the primary" + (duplicated > 0 ? ", \(duplicated) duplicated" : "")
    }
}
