import Yams

/// One kind of brake: a condition over a probe's latest samples that, once it holds while the
/// faults do, stops the run — every fault reverted at once, the rollbacks run, verdict `aborted`.
///
/// A kind is one type (this protocol plus ``StopConditionKindReader``); ``StopConditionKinds``
/// lists them. Nothing else switches over stop-condition kinds. Judging is pure: the monitor
/// hands a kind the probe's trailing samples and the instant the newest one completed.
public protocol StopConditionKind: Sendable {
    /// The key under `stop_when:` (`availability`).
    static var key: String { get }
    /// One line for `list-faults`.
    static var summary: String { get }
    /// The probe (or `workload`) whose samples it reads.
    var probe: String { get }
    /// How far back it looks; the condition is judged once the phase is this old.
    var window: Nanos { get }
    /// How many of the newest samples it needs whatever their age (`failures` counts a streak).
    var depth: Int { get }
    /// The plan's and the journal's words for it: `availability of web below 80% over 2s`.
    var description: String { get }
    /// What it measured when it holds (the brake's reason), or nil.
    func breach(_ recent: ProbeSeries, at now: Nanos) -> String?
    /// Equality across the existential.
    func isEqual(_ other: any StopConditionKind) -> Bool
}

extension StopConditionKind {
    public var depth: Int { 1 }
}

extension StopConditionKind where Self: Equatable {
    public func isEqual(_ other: any StopConditionKind) -> Bool { (other as? Self) == self }
}

/// Reading a stop condition from its node; internal, because the node reader is.
protocol StopConditionKindReader: StopConditionKind {
    static func read(_ node: Node, path: String, _ c: ExpectationContext) -> Self?
}

/// One entry of `stop_when:`.
public struct StopCondition: Sendable, Equatable, CustomStringConvertible {
    public var kind: any StopConditionKind

    public init(_ kind: any StopConditionKind) { self.kind = kind }

    public var probe: String { kind.probe }
    public var description: String { kind.description }
    public var key: String { type(of: kind).key }

    public static func == (a: StopCondition, b: StopCondition) -> Bool { a.kind.isEqual(b.kind) }
}

/// The registry of stop-condition kinds, in the order they are judged.
public enum StopConditionKinds {
    static let registered: [any StopConditionKindReader.Type] = [
        AvailabilityStop.self,
        ErrorRateStop.self,
        LatencyStop.self,
        FailuresStop.self,
        ValueStop.self,
    ]

    public static var all: [any StopConditionKind.Type] { registered }
    public static var keys: [String] { registered.map { $0.key } }
}

/// The samples of a series that started within `window` before `now` (their indices).
extension ProbeSeries {
    func indices(within window: Nanos, before now: Nanos) -> [Int] {
        started.indices.filter { started[$0] >= now - window && started[$0] <= now }
    }
}

/// Reads the `window:` every windowed kind takes: a positive duration of at most an hour.
extension NodeReader {
    func window(_ f: Fields, default d: Nanos) -> Nanos {
        duration(f, "window", positive: true, max: Bounds.hour) ?? d
    }
}
