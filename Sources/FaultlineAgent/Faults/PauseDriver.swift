import FaultlineEssentials
import Glibc

extension PauseFault: FaultWork {
    public var host: String { process.host }
}

/// Stops the selected processes with SIGSTOP; revert sends SIGCONT. Confirmed by state `T`.
public struct PauseDriver: FaultEffect {
    public init() {}

    public func prepare(_ work: PauseFault) throws(FaultError) -> Injection {
        let targets = try ProcessResolver.targets(work.process)
        let stopped = targets.filter { ProcFS.stat($0.pid)?.state == "T" }
        guard stopped.isEmpty else {
            // Continuing it afterwards would change state this run did not create.
            throw FaultError.refused("\(stopped.map(\.description).joined(separator: ", ")) already stopped before the fault")
        }
        return Injection(
            targets: targets, undo: targets.map { .signal($0, signal: SIGCONT) },
            summary: "SIGSTOP to \(targets.map(\.description).joined(separator: ", "))")
    }

    public func apply(_ work: PauseFault, _ injection: Injection) throws(FaultError) {
        try FaultEffects.send(SIGSTOP, to: injection.targets)
    }

    public func confirm(_ work: PauseFault, _ injection: Injection, deadline: Int64) -> Confirmation {
        FaultEffects.poll(injection.targets, deadline: deadline, what: "stopped") { ProcFS.stat($0.pid)?.state == "T" }
    }
}
