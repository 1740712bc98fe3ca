import FaultlineCore
import Glibc

/// Sends a signal (default TERM) to the selected processes; confirmed when they are gone.
public struct ProcessKillFault: FaultDriver {
    public init() {}

    public func prepare(_ spec: FaultSpec) throws(FaultError) -> Injection {
        guard case .kill(let p) = spec else { throw FaultError.refused("kill driver given a '\(spec.kind)' fault") }
        let targets = try ProcessResolver.targets(p)
        let list = targets.map(\.description).joined(separator: ", ")
        // A kill cannot be undone: the ledger keeps it for the audit trail with no undo steps.
        return Injection(spec: spec, targets: targets, undo: [], summary: "SIG\(p.signalName) to \(list)")
    }

    public func apply(_ injection: Injection) throws(FaultError) {
        guard case .kill(let p) = injection.spec else { return }
        try FaultDrivers.send(p.signal, to: injection.targets)
    }

    public func confirm(_ injection: Injection, deadline: Int64) -> Confirmation {
        FaultDrivers.poll(injection.targets, deadline: deadline, what: "gone") { !ProcFS.isAlive($0) }
    }
}
