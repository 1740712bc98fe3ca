import FaultlineCore
import Glibc

extension KillFault: FaultWork {
    public var host: String { process.host }
}

/// Sends a signal to the selected processes; confirmed when they are gone. A kill cannot be
/// undone: the ledger keeps it for the audit trail, with no undo steps.
public struct KillDriver: FaultDriver {
    public init() {}

    /// One per host of its target: a list of hosts is one fault, injected on all at once.
    public func expand(_ spec: KillFault, _ context: ExpansionContext) throws(FaultError) -> [KillFault] {
        spec.process.perHost(context.hosts).map { t in
            var one = spec
            one.process = t
            return one
        }
    }

    public func prepare(_ work: KillFault) throws(FaultError) -> Injection {
        let targets = try ProcessResolver.targets(work.process)
        let list = targets.map(\.description).joined(separator: ", ")
        return Injection(targets: targets, undo: [], summary: "SIG\(work.signalName) to \(list)")
    }

    public func apply(_ work: KillFault, _ injection: Injection) throws(FaultError) {
        try FaultDrivers.send(work.signal, to: injection.targets)
    }

    public func confirm(_ work: KillFault, _ injection: Injection, deadline: Int64) -> Confirmation {
        FaultDrivers.awaitExit(injection.targets, deadline: deadline)
    }
}
