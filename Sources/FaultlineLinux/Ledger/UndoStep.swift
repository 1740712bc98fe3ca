import FaultlineCore
import Glibc

/// One step that undoes part of an injection, as data: written to the ledger before the
/// injection and replayable by `faultline recover` from another process.
public enum UndoStep: Codable, Equatable, Sendable, CustomStringConvertible {
    /// Send `signal` to this exact process (same pid *and* start time) if it still exists.
    case signal(ProcessRef, signal: Int32)
    /// Delete an nft table (family inet) this run created, in the current network namespace.
    case nftDeleteTable(String)

    public var description: String {
        switch self {
        case .signal(let p, let s): return "send signal \(s) to \(p)"
        case .nftDeleteTable(let t): return "delete nft table inet \(t)"
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
        case .nftDeleteTable(let t):
            guard Self.nftTableExists(t) else { return }
            let r = Spawner.run(.argv(["nft", "delete", "table", "inet", t]), timeout: 10_000_000_000)
            if r.status != 0, Self.nftTableExists(t) {
                throw FaultError.system("nft delete table inet \(t): \(r.output.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
        }
    }

    static func nftTableExists(_ table: String) -> Bool {
        Spawner.run(.argv(["nft", "list", "table", "inet", table]), timeout: 10_000_000_000).status == 0
    }

    /// A description of what is still wrong after `execute`, or `nil` when the undo holds.
    public func residue() -> String? {
        switch self {
        case .signal(let p, let sig) where sig == SIGCONT:
            guard ProcFS.isAlive(p), let s = ProcFS.stat(p.pid), s.state == "T" else { return nil }
            return "process \(p) is still stopped"
        case .signal:
            return nil
        case .nftDeleteTable(let t):
            return Self.nftTableExists(t) ? "nft table inet \(t) is still present" : nil
        }
    }
}
