import FaultlineCore

/// The registry of fault drivers, the runner's side of each kind: the one list of them in
/// FaultlineLinux (the same types as `FaultEffects`, the agent's list).
public enum FaultDrivers {
    static let registered: [any FaultDriver] = [
        KillDriver(),
        PauseDriver(),
        PartitionDriver(),
        NetworkDriver(),
        ProxyDriver(),
        CPUDriver(),
        MemoryDriver(),
        DiskFillDriver(),
        IODriver(),
        ClockDriver(),
    ]

    /// The driver of a fault kind.
    public static func driver(for spec: any FaultKind) -> (any FaultDriver)? {
        registered.first { $0.handles(spec) }
    }
}

/// The type-erased calls the runner makes on a driver it found in the registry.
extension FaultDriver {
    func handles(_ spec: any FaultKind) -> Bool { spec is Spec }
    package func expandAny(_ spec: any FaultKind, _ context: ExpansionContext) throws(FaultError) -> [AnyFaultWork] {
        guard let s = spec as? Spec else { throw FaultError.refused("the \(Spec.key) driver was given a '\(type(of: spec).key)' fault") }
        return try expand(s, context).map(AnyFaultWork.init)
    }
    package func preflightAny(_ spec: any FaultKind, _ agents: AgentCalls) -> Preflight<any FaultKind> {
        guard let s = spec as? Spec else { return Preflight(spec: spec) }
        let p = preflight(s, agents)
        return Preflight(spec: p.spec, note: p.note, problem: p.problem)
    }
    package func confirmRevertedAny(_ works: [AnyFaultWork], _ agents: AgentCalls) -> RevertCheck? {
        confirmReverted(works.compactMap { $0.work as? Work }, agents)
    }
}
