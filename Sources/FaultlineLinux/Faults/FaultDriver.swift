import FaultlineCore
import Glibc

/// A prepared injection: what will be done, to what, and how to undo it — as data, so the
/// runner (and later a host agent) can record it before acting and replay it after a crash.
public struct Injection: Codable, Equatable, Sendable {
    public var spec: FaultSpec
    public var targets: [ProcessRef]
    public var undo: [UndoStep]
    public var summary: String
}

/// The result of checking that a fault took effect (or that its revert did).
public struct Confirmation: Equatable, Sendable {
    public var ok: Bool
    public var detail: String
    /// When the effect was first seen, on the monotonic clock.
    public var at: Int64?
}

/// One fault kind's behaviour on a host: `prepare` (no side effects) → record → `apply` →
/// `confirm`; revert replays `Injection.undo`.
public protocol FaultDriver: Sendable {
    func prepare(_ spec: FaultSpec) throws(FaultError) -> Injection
    func apply(_ injection: Injection) throws(FaultError)
    /// Polls until the effect shows or `deadline` (monotonic ns) passes.
    func confirm(_ injection: Injection, deadline: Int64) -> Confirmation
}

/// The driver for a fault spec.
public enum FaultDrivers {
    public static func driver(for spec: FaultSpec) -> any FaultDriver {
        switch spec {
        case .kill: return ProcessKillFault()
        case .pause: return ProcessPauseFault()
        case .block, .partition: return BlockFault()
        }
    }

    /// Reverts an injection: runs its undo steps in reverse and returns what is still wrong.
    public static func revert(_ injection: Injection) throws(FaultError) -> [String] {
        for step in injection.undo.reversed() { try step.execute() }
        // The kernel applies SIGCONT asynchronously to the scheduler; allow it a moment.
        let deadline = MonotonicClock.now() + 200_000_000
        while true {
            let residue = injection.undo.compactMap { $0.residue() }
            if residue.isEmpty || MonotonicClock.now() > deadline { return residue }
            usleep(1_000)
        }
    }

    /// Polls `check` every 500µs until it holds for every target or the deadline passes.
    static func poll(_ targets: [ProcessRef], deadline: Int64, what: String, _ check: (ProcessRef) -> Bool) -> Confirmation {
        while true {
            let now = MonotonicClock.now()
            let missing = targets.filter { !check($0) }
            if missing.isEmpty {
                return Confirmation(ok: true, detail: "\(what): \(targets.map(\.description).joined(separator: ", "))", at: now)
            }
            if now > deadline {
                return Confirmation(
                    ok: false, detail: "not \(what) before the confirm timeout: \(missing.map(\.description).joined(separator: ", "))",
                    at: nil)
            }
            usleep(500)
        }
    }

    static func send(_ signal: Int32, to targets: [ProcessRef]) throws(FaultError) {
        for t in targets {
            // Re-check identity right before signalling: the pid may have been reused since prepare.
            guard ProcFS.isAlive(t) else { throw FaultError.target("process \(t) exited before it could be signalled") }
            if kill(t.pid, signal) != 0 { throw FaultError.system("signal \(signal) to \(t): \(errnoText())") }
        }
    }
}
