import FaultlineCore

/// One fault kind's runner side: `expand` a fault into per-host work, `preflight` it against
/// its hosts before anything is injected, and after every host reverted, `confirmReverted`.
/// What each host's agent does with the work is the kind's ``FaultEffect`` (FaultlineAgent).
///
/// ``FaultDrivers`` lists the drivers; nothing else switches over kinds.
public protocol FaultDriver: FaultEffect {
    associatedtype Spec: FaultKind

    /// The per-host work of a fault whose role, if any, is already bound to a host.
    func expand(_ spec: Spec, _ context: ExpansionContext) throws(FaultError) -> [Work]
    /// After every host reverted its part, for kinds whose revert is worth proving from outside
    /// (a healed partition); nil for the others.
    func confirmReverted(_ works: [Work], _ agents: AgentCalls) -> RevertCheck?
    /// Before anything of the run is injected (agents started): ask the fault's hosts what it
    /// needs, and make the choices that depend on them (the engine a host can run). A problem
    /// makes the run invalid before any injection.
    func preflight(_ spec: Spec, _ agents: AgentCalls) -> Preflight<Spec>
}

/// Work that names what it creates (`TaggedWork`) and is the fault itself, on its one host:
/// expanding it is naming it after the run and the fault.
extension FaultDriver where Work: TaggedWork, Spec == Work {
    public func expand(_ spec: Spec, _ context: ExpansionContext) throws(FaultError) -> [Work] {
        var w = spec
        w.tag = OwnedNames.table(runId: context.runId, faultIndex: context.faultIndex)
        return [w]
    }
}

extension FaultDriver {
    public func confirmReverted(_ works: [Work], _ agents: AgentCalls) -> RevertCheck? { nil }
    public func preflight(_ spec: Spec, _ agents: AgentCalls) -> Preflight<Spec> { Preflight(spec: spec) }
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
