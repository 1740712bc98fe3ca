import FaultlineEssentials
import Glibc

extension KillFault: FaultWork {
    public var host: String { process.host }
}

/// Sends a signal to the selected processes; confirmed when they are gone. A kill cannot be
/// undone: the ledger keeps it for the audit trail, with no undo steps.
public struct KillDriver: FaultEffect {
    public init() {}

    public func prepare(_ work: KillFault) throws(FaultError) -> Injection {
        let targets = try ProcessResolver.targets(work.process)
        let list = targets.map(\.description).joined(separator: ", ")
        return Injection(targets: targets, undo: [], summary: "SIG\(work.signalName) to \(list)")
    }

    public func apply(_ work: KillFault, _ injection: Injection) throws(FaultError) {
        try FaultEffects.send(work.signal, to: injection.targets)
    }

    public func confirm(_ work: KillFault, _ injection: Injection, deadline: Int64) -> Confirmation {
        FaultEffects.awaitExit(injection.targets, deadline: deadline)
    }
}
