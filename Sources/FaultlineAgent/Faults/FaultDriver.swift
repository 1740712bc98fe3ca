import FaultlineCore
import Glibc

/// One host's part of a fault, as its agent receives it: for a kill, the kill itself with its
/// host bound; for a partition, the one host's nft table.
public protocol FaultWork: Codable, Sendable, Equatable {
    /// The name the wire carries, unique among works.
    static var key: String { get }
    /// The host whose agent performs it.
    var host: String { get }
}

/// One fault kind's behaviour: on the runner, `expand` a fault into per-host work; on each
/// host's agent, `prepare` (no side effects) → record → `apply` → `confirm`, with the undo as
/// data in the ``Injection``; on the runner again, after every host reverted, `confirmReverted`.
///
/// ``FaultDrivers`` lists the drivers; nothing else switches over kinds.
public protocol FaultDriver: Sendable {
    associatedtype Spec: FaultKind
    associatedtype Work: FaultWork

    /// The per-host work of a fault whose role, if any, is already bound to a host.
    func expand(_ spec: Spec, _ context: ExpansionContext) throws(FaultError) -> [Work]
    /// Finds the targets and checks the safety rules; changes nothing.
    func prepare(_ work: Work) throws(FaultError) -> Injection
    func apply(_ work: Work, _ injection: Injection) throws(FaultError)
    /// Polls until the effect shows or `deadline` (monotonic ns) passes.
    func confirm(_ work: Work, _ injection: Injection, deadline: Int64) -> Confirmation
    /// After every host reverted its part, for kinds whose revert is worth proving from outside
    /// (a healed partition); nil for the others.
    func confirmReverted(_ works: [Work], _ agents: AgentCalls) -> RevertCheck?
    /// Before anything of the run is injected (agents started): ask the fault's hosts what it
    /// needs, and make the choices that depend on them (the engine a host can run). A problem
    /// makes the run invalid before any injection.
    func preflight(_ spec: Spec, _ agents: AgentCalls) -> Preflight<Spec>
    /// Agent side, just before the revert: what the fault did, measured (requested vs measured).
    func measure(_ work: Work, _ injection: Injection) -> String?
}

extension FaultDriver {
    public func confirmReverted(_ works: [Work], _ agents: AgentCalls) -> RevertCheck? { nil }
    public func preflight(_ spec: Spec, _ agents: AgentCalls) -> Preflight<Spec> { Preflight(spec: spec) }
    public func measure(_ work: Work, _ injection: Injection) -> String? { nil }
}

/// A fault made ready for its hosts: the spec to inject, what was chosen (for the journal), or
/// why it cannot run there.
public struct Preflight<Spec: Sendable>: Sendable {
    public var spec: Spec
    public var note: String?
    public var problem: String?

    public init(spec: Spec, note: String? = nil, problem: String? = nil) {
        self.spec = spec
        self.note = note
        self.problem = problem
    }
}

/// Whether a fault's effect is gone after its revert.
public struct RevertCheck: Sendable, Equatable {
    /// What was checked, when it holds.
    public var detail: String
    /// What still shows the fault; empty when it is gone.
    public var problems: [String]

    public init(detail: String, problems: [String]) {
        self.detail = detail
        self.problems = problems
    }
}

/// What expanding a fault into per-host work may need to know about the run.
public struct ExpansionContext: Sendable {
    public var runId: String
    /// The fault's index in the experiment (names kernel objects uniquely within the run).
    public var faultIndex: Int
    public var hosts: HostSet

    public init(runId: String, faultIndex: Int, hosts: HostSet) {
        self.runId = runId
        self.faultIndex = faultIndex
        self.hosts = hosts
    }
}

/// Requests to the agents of a run, for checks the runner makes after a revert.
public struct AgentCalls: Sendable {
    public var call: @Sendable (_ host: String, _ op: AgentRequest.Op) -> AgentResponse?
    /// Why and when a host's agent was lost during the run, or nil: a check that cannot ask a
    /// host says so instead of reporting what it could not see.
    public var lost: @Sendable (_ host: String) -> String?

    public init(
        _ call: @escaping @Sendable (_ host: String, _ op: AgentRequest.Op) -> AgentResponse?,
        lost: @escaping @Sendable (_ host: String) -> String? = { _ in nil }
    ) {
        self.call = call
        self.lost = lost
    }
}

/// A prepared injection: what will be done, to what, and how to undo it — as data, recorded in
/// the ledger before anything is done and replayable by `faultline recover` after a crash.
public struct Injection: Codable, Equatable, Sendable {
    public var targets: [ProcessRef]
    public var undo: [UndoStep]
    public var summary: String
    /// What a driver measured while preparing (a baseline) for its own confirm.
    public var baseline: [String: Double] = [:]

    public init(targets: [ProcessRef] = [], undo: [UndoStep], summary: String) {
        self.targets = targets
        self.undo = undo
        self.summary = summary
    }
}

/// The result of checking that a fault took effect (or that its revert did).
public struct Confirmation: Equatable, Sendable {
    public var ok: Bool
    public var detail: String
    /// When the effect was first seen, on the monotonic clock.
    public var at: Int64?
}

/// Any kind's work, on the wire: `{"kind": KEY, "spec": {...}}`, decoded through the registry.
public struct AnyFaultWork: Codable, Equatable, Sendable {
    public let work: any FaultWork

    public init(_ work: any FaultWork) { self.work = work }

    public var key: String { type(of: work).key }
    public var host: String { work.host }

    enum CodingKeys: String, CodingKey { case kind, spec }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(key, forKey: .kind)
        try work.encode(to: c.superEncoder(forKey: .spec))
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let key = try c.decode(String.self, forKey: .kind)
        guard let type = FaultDrivers.workType(for: key) else {
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown fault work '\(key)'")
        }
        work = try type.init(from: c.superDecoder(forKey: .spec))
    }

    public static func == (a: AnyFaultWork, b: AnyFaultWork) -> Bool { a.work.isEqual(b.work) }
}

extension FaultWork {
    func isEqual(_ other: any FaultWork) -> Bool { (other as? Self) == self }
}
