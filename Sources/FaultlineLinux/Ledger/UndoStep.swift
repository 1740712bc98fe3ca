import FaultlineCore
import Glibc

/// One step that undoes part of an injection, as data: written to the ledger before the
/// injection and replayable by `faultline recover` from another process.
public enum UndoStep: Codable, Equatable, Sendable, CustomStringConvertible {
    /// Send `signal` to this exact process (same pid *and* start time) if it still exists.
    case signal(ProcessRef, signal: Int32)

    public var description: String {
        switch self {
        case .signal(let p, let s): return "send signal \(s) to \(p)"
        }
    }

    /// Performs the step. "Already gone" is success: there is nothing left to undo.
    public func execute() throws(FaultError) {
        switch self {
        case .signal(let p, let sig):
            guard ProcFS.isAlive(p) else { return }
            if kill(p.pid, sig) != 0, errno != ESRCH {
                throw FaultError.system("signal \(sig) to \(p): \(errnoText())")
            }
        }
    }

    /// A description of what is still wrong after `execute`, or `nil` when the undo holds.
    public func residue() -> String? {
        switch self {
        case .signal(let p, let sig) where sig == SIGCONT:
            guard ProcFS.isAlive(p), let s = ProcFS.stat(p.pid), s.state == "T" else { return nil }
            return "process \(p) is still stopped"
        case .signal:
            return nil
        }
    }
}
