import FaultlineEssentials
import FoundationEssentials
import Glibc

/// Replays pending undo steps from ledgers left behind by runs that did not finish.
public enum Recovery {
    public struct Outcome: Sendable {
        public var lines: [String] = []
        public var failures = 0

        public init() {}
    }

    /// Recovers one run (`runId`) or every ledger in `directory`; a run whose runner is still
    /// alive is left alone unless `force`.
    public static func recover(directory: String, runId: String?, force: Bool) -> Outcome {
        var out = Outcome()
        if let runId, !isRunId(runId) {
            out.lines.append("run id \(ShownText.escaped(runId)) is not a faultline run id (like 20261127-082650-97d0); nothing done")
            out.failures += 1
            return out
        }
        var st = stat()
        if lstat(directory, &st) == 0, let problem = Ledger.untrusted(directory, st, directory: true) {
            out.lines.append("\(problem); no ledger in it was read")
            out.failures += 1
            return out
        }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".json") && (runId == nil || $0 == "\(runId!).json") }.sorted()
        if files.isEmpty {
            out.lines.append(
                runId.map { "no ledger for run '\($0)' in '\(directory)'" } ?? "no ledgers in '\(directory)': nothing to recover")
            if runId != nil { out.failures += 1 }
            return out
        }
        for name in files { recoverFile("\(directory)/\(name)", force: force, into: &out) }
        return out
    }

    /// A run id as `Runner.newRunId` makes them, or a test's: letters, digits, `-` and `_`.
    static func isRunId(_ s: String) -> Bool {
        (1...64).contains(s.utf8.count)
            && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 95 }
    }

    static func recoverFile(_ path: String, force: Bool, into out: inout Outcome) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if let problem = Ledger.untrusted(path, st, directory: false) {
            out.lines.append("skip '\(path)': \(problem)")
            out.failures += 1
            return
        }
        guard let data = FileManager.default.contents(atPath: path),
            var file = try? FaultlineJSON.decoder().decode(Ledger.File.self, from: data)
        else {
            out.lines.append("skip '\(path)': not a faultline ledger")
            out.failures += 1
            return
        }
        let owner = ProcessRef(pid: file.ownerPid, startTime: file.ownerStartTime, name: "")
        if !force, ProcFS.isAlive(owner) {
            out.lines.append("run \(file.runId): its runner (pid \(file.ownerPid)) is still running; left alone (use --force)")
            return
        }
        var failed = false
        for i in file.entries.indices where file.entries[i].state == .pending {
            let e = file.entries[i]
            let refused = e.undo.compactMap { step in step.refusal.map { "'\(step.description)': \($0)" } }
            if !refused.isEmpty {
                // A ledger holding a step faultline never records was not written by faultline:
                // nothing of the entry is done.
                failed = true
                out.failures += 1
                out.lines.append("run \(file.runId): refused to revert '\(e.fault)' on \(e.host): \(refused.joined(separator: "; "))")
                continue
            }
            do {
                for step in e.undo.reversed() { try step.execute() }
                file.entries[i].state = .reverted
                out.lines.append(
                    "run \(file.runId): reverted '\(e.fault)' on \(e.host): \(e.undo.map(\.description).joined(separator: "; "))")
            } catch {
                failed = true
                out.failures += 1
                out.lines.append("run \(file.runId): could not revert '\(e.fault)' on \(e.host): \(error)")
            }
        }
        if failed {
            if let d = try? FaultlineJSON.encoder().encode(file) { try? Ledger.writeDurably(d, to: path) }
        } else {
            unlink(path)
            if !file.entries.contains(where: { $0.state == .pending }) { out.lines.append("run \(file.runId): ledger clean, removed") }
        }
    }
}
