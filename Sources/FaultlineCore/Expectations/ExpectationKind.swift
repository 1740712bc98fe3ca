import Foundation

/// One kind of guarantee an experiment claims: its key, how it describes itself, and how it is
/// judged — a pure function of what the run recorded.
///
/// A kind is one type (this protocol, plus ``ExpectationKindReader`` for reading it);
/// ``ExpectationKinds`` lists them. Nothing else switches over expectation kinds.
public protocol ExpectationKind: Sendable {
    /// The key under `expect:` (`availability`).
    static var key: String { get }
    /// One line for `list-faults`.
    static var summary: String { get }
    /// The name of its check in the journal: `availability(web, all)`.
    var name: String { get }
    /// The plan's line for it.
    var description: String { get }
    /// What the runner must watch for while the faults hold, so the check has its evidence.
    var observations: [RunObservation] { get }
    /// Judges the run; one or more results (`load_balancing` checks several figures).
    func check(_ run: RunEvidence) -> [CheckResult]
    /// Equality across the existential.
    func isEqual(_ other: any ExpectationKind) -> Bool
}

extension ExpectationKind {
    public var observations: [RunObservation] { [] }
}

extension ExpectationKind where Self: Equatable {
    public func isEqual(_ other: any ExpectationKind) -> Bool { (other as? Self) == self }
}

/// Something the runner records during the fault phase because an expectation needs it.
public enum RunObservation: Sendable, Equatable {
    /// Look for a new process matching what this kill fault took (self-healing).
    case replacement(fault: String)
}

/// One expectation of an experiment: a kind's value, comparable and describable.
public struct Expectation: Sendable, Equatable, CustomStringConvertible {
    public var kind: any ExpectationKind

    public init(_ kind: any ExpectationKind) { self.kind = kind }

    public var name: String { kind.name }
    public var description: String { kind.description }
    public var key: String { type(of: kind).key }
    public func check(_ run: RunEvidence) -> [CheckResult] { kind.check(run) }

    public static func == (a: Expectation, b: Expectation) -> Bool { a.kind.isEqual(b.kind) }
}

/// Everything a run recorded that expectations are judged on. Pure data, plus the clock the
/// linearizability search's budget is measured with.
public struct RunEvidence: Sendable {
    /// The fault phase, as offsets from the run's start.
    public var phase: Range<Nanos>
    /// Every continuous probe's samples, and the workload's operations as a series.
    public var series: [ProbeSeries]
    public var faults: [FaultRecord]
    /// Each injected fault's window, clamped to the phase.
    public var faultWindows: [Range<Nanos>]
    /// Fault name → when it was injected.
    public var faultStarts: [String: Nanos]
    /// Fault name → when a fault that holds for a duration ended (its revert, or its planned end).
    public var faultEnds: [String: Nanos]
    /// Action name → when it started.
    public var actionStarts: [String: Nanos]
    public var history: History?
    /// Stretches of the run when the runner itself did not run (`Journal.stalls`): a failed
    /// sample measured across one says more about the runner than the target.
    public var stalls: [Range<Nanos>]
    /// The system's own account (`markers:`), on the run's clock, earliest first.
    public var markers: [MarkerRecord] = []
    public var now: @Sendable () -> Nanos
    /// The lost-write analysis, shared by `lost_writes` and `converged` (computed once).
    let writes: WriteAnalysis

    public init(
        phase: Range<Nanos>, series: [ProbeSeries] = [], faults: [FaultRecord] = [], faultWindows: [Range<Nanos>] = [],
        faultStarts: [String: Nanos] = [:], faultEnds: [String: Nanos] = [:], actionStarts: [String: Nanos] = [:], history: History? = nil,
        stalls: [Range<Nanos>] = [], now: @escaping @Sendable () -> Nanos = { 0 }
    ) {
        self.phase = phase
        self.series = series
        self.faults = faults
        self.faultWindows = faultWindows
        self.faultStarts = faultStarts
        self.faultEnds = faultEnds
        self.actionStarts = actionStarts
        self.history = history
        self.stalls = stalls
        self.now = now
        writes = WriteAnalysis(history)
    }

    /// A probe's series (or the workload's, named `workload`).
    public func series(named probe: String) -> ProbeSeries? { series.first { $0.probe == probe } }
}

/// Computes the write check of a history once, on first use.
final class WriteAnalysis: @unchecked Sendable {
    private let history: History?
    private var report: WriteChecker.Report?
    private let lock = NSLock()

    init(_ history: History?) { self.history = history }

    var value: WriteChecker.Report? {
        guard let history else { return nil }
        lock.lock()
        defer { lock.unlock() }
        if let report { return report }
        let r = WriteChecker.check(history)
        report = r
        return r
    }
}
