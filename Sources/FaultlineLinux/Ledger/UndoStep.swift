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

    /// Why this step may not be executed, or nil. Only steps of the shapes faultline itself
    /// records are trusted — a ledger is a file, and a planted one must not make `recover` send
    /// any signal to any process or delete any table: SIGCONT to a process named by pid *and*
    /// start time (never PID 1), and deleting a table with faultline's prefix.
    public var refusal: String? {
        switch self {
        case .signal(let p, let sig):
            if sig != SIGCONT { return "signal \(sig) is not an undo faultline records (only SIGCONT, to continue what it paused)" }
            if p.pid <= 1 { return "pid \(p.pid) is never signalled" }
            if p.startTime == 0 { return "pid \(p.pid) has no start time recorded, so it cannot be told from a reused pid" }
            return nil
        case .nftDeleteTable(let t):
            return Self.isFaultlineTable(t) ? nil : "nft table '\(t)' is not named like faultline's tables (faultline_…)"
        }
    }

    /// `faultline_` then 1 to 40 of [A-Za-z0-9_]. Checked by hand: a regular expression would
    /// load ICU and compile the pattern on the way to injecting a fault.
    public static func isFaultlineTable(_ name: String) -> Bool {
        guard name.hasPrefix("faultline_") else { return false }
        let rest = name.utf8.dropFirst("faultline_".utf8.count)
        return (1...40).contains(rest.count)
            && rest.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 }
    }

    /// Performs the step. "Already gone" is success: there is nothing left to undo.
    public func execute() throws(FaultError) {
        if let refusal { throw FaultError.refused("undo step '\(description)' refused: \(refusal)") }
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
