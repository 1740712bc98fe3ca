import Foundation

/// What stopped a run early: a stop condition that held, or a halt.
public struct StopRecord: Codable, Equatable, Sendable {
    /// `stop_when.availability[0]`-style words (`availability of web below 80% over 2s`), or
    /// the halt and where it came from.
    public var condition: String
    /// What the condition measured when it held, or who halted the run.
    public var measured: String
    /// When the breaching sample completed, or when the halt was seen.
    public var at: Nanos
    /// Starts of the failed samples inside the condition's window (the newest 20).
    public var samples: [Nanos] = []
    /// When every fault held at the stop was reverted, and those that confirm a heal confirmed.
    public var revertedAt: Nanos?
    /// How many faults were held at the stop (each on all its hosts).
    public var faults: Int = 0

    public init(condition: String, measured: String, at: Nanos) {
        self.condition = condition
        self.measured = measured
        self.at = at
    }

    /// From the breach (or the halt) to every fault reverted.
    public var reactionNs: Nanos? { revertedAt.map { max(0, $0 - at) } }
}

/// Judges the stop conditions on every sample, from the probes' threads; the first that holds
/// trips the brake once (`onTrip`), and later samples are not judged.
public final class StopMonitor: @unchecked Sendable {
    public let conditions: [StopCondition]
    private let lock = NSLock()
    private var recent: [String: ProbeSeries] = [:]
    /// Per probe: how old a sample may be and how many must be kept, over its conditions.
    private let keep: [String: (window: Nanos, depth: Int)]
    private var phaseStart: Nanos?
    private var tripped: StopRecord?
    private let onTrip: @Sendable (StopRecord) -> Void

    public init(_ conditions: [StopCondition], onTrip: @escaping @Sendable (StopRecord) -> Void) {
        self.conditions = conditions
        self.onTrip = onTrip
        var keep: [String: (window: Nanos, depth: Int)] = [:]
        for c in conditions {
            let k = keep[c.probe] ?? (0, 1)
            keep[c.probe] = (max(k.window, c.kind.window), max(k.depth, c.kind.depth))
        }
        self.keep = keep
    }

    /// The probes whose samples it wants.
    public var probes: Set<String> { Set(keep.keys) }

    /// Conditions are judged from here on (the fault phase's start, as a run offset).
    public func arm(at start: Nanos) {
        lock.lock()
        phaseStart = start
        lock.unlock()
    }

    /// The brake's record, if it tripped.
    public var record: StopRecord? {
        lock.lock()
        defer { lock.unlock() }
        return tripped
    }

    /// Trips the brake from outside (a halt); false if it had tripped already.
    @discardableResult
    public func trip(_ record: StopRecord) -> Bool {
        lock.lock()
        guard tripped == nil else {
            lock.unlock()
            return false
        }
        tripped = record
        lock.unlock()
        onTrip(record)
        return true
    }

    /// One sample of `probe`, which completed at `started + latency`.
    public func observe(
        probe: String, kind: String, interval: Nanos?, started: Nanos, latency: Nanos, ok: Bool, reason: String?, value: Double?
    ) {
        guard let k = keep[probe] else { return }
        let now = started + latency
        lock.lock()
        guard tripped == nil, let start = phaseStart, started >= start else {
            lock.unlock()
            return
        }
        var s = recent[probe] ?? ProbeSeries(probe: probe, kind: kind, interval: interval)
        s.append(scheduled: started, started: started, latency: latency, ok: ok, reason: reason, value: value)
        // Workload clients finish out of order: the series stays in order of start.
        if s.count > 1, s.started[s.count - 2] > started { s.moveLastIntoPlace() }
        // A brake names the failure that tripped it: the series keeps only the newest reason
        // (ProbeSeries folds the first twenty distinct ones, which would name an old one).
        if !ok, let reason { s.failures = [ProbeSeries.FailureCount(reason: reason, count: 1, firstAt: started)] }
        s.trim(olderThan: now - k.window - (interval ?? 0), keeping: k.depth)
        recent[probe] = s
        var breach: StopRecord?
        for c in conditions where c.probe == probe && now - start >= c.kind.window {
            guard let measured = c.kind.breach(s, at: now) else { continue }
            var r = StopRecord(condition: c.description, measured: measured, at: now)
            let within = c.kind.window > 0 ? s.indices(within: c.kind.window, before: now) : Array(s.started.indices.suffix(c.kind.depth))
            r.samples = Array(within.filter { !s.ok[$0] }.map { s.started[$0] }.suffix(20))
            breach = r
            break
        }
        lock.unlock()
        if let breach { trip(breach) }
    }
}

extension ProbeSeries {
    /// Moves the newest-appended sample back to where its start puts it.
    mutating func moveLastIntoPlace() {
        let t = started[count - 1]
        let to = started.dropLast().lastIndex { $0 <= t }.map { $0 + 1 } ?? 0
        func move<T>(_ a: inout [T]) { a.insert(a.removeLast(), at: to) }
        move(&scheduled)
        move(&started)
        move(&latency)
        move(&ok)
        if var v = values {
            move(&v)
            values = v
        }
    }

    /// Drops samples that started before `oldest`, but keeps the newest `depth` whatever their age.
    mutating func trim(olderThan oldest: Nanos, keeping depth: Int) {
        let stale = started.prefix { $0 < oldest }.count
        let drop = min(stale, max(0, count - depth))
        guard drop > 0 else { return }
        scheduled.removeFirst(drop)
        started.removeFirst(drop)
        latency.removeFirst(drop)
        ok.removeFirst(drop)
        values?.removeFirst(drop)
    }
}
