import FaultlineCore
import Glibc

/// Stops the selected processes with SIGSTOP; revert sends SIGCONT. Confirmed by state `T`.
public struct ProcessPauseFault: FaultDriver {
    public init() {}

    public func prepare(_ spec: FaultSpec) throws(FaultError) -> Injection {
        guard case .pause(let p) = spec else { throw FaultError.refused("pause driver given a '\(spec.kind)' fault") }
        let targets = try ProcessResolver.targets(p)
        let stopped = targets.filter { ProcFS.stat($0.pid)?.state == "T" }
        guard stopped.isEmpty else {
            // Continuing it afterwards would change state this run did not create.
            throw FaultError.refused("\(stopped.map(\.description).joined(separator: ", ")) already stopped before the fault")
        }
        return Injection(
            spec: spec, targets: targets, undo: targets.map { .signal($0, signal: SIGCONT) },
            summary: "SIGSTOP to \(targets.map(\.description).joined(separator: ", "))")
    }

    public func apply(_ injection: Injection) throws(FaultError) {
        try FaultDrivers.send(SIGSTOP, to: injection.targets)
    }

    public func confirm(_ injection: Injection, deadline: Int64) -> Confirmation {
        FaultDrivers.poll(injection.targets, deadline: deadline, what: "stopped") { ProcFS.stat($0.pid)?.state == "T" }
    }
}
