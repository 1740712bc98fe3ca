import FaultlineCore
import Foundation
import Glibc

/// Replays pending undo steps from ledgers left behind by runs that did not finish.
public enum Recovery {
    public struct Outcome: Sendable {
        public var lines: [String] = []
        public var failures = 0
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
            var file = try? Journal.decoder().decode(Ledger.File.self, from: data)
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
            if let d = try? Journal.encoder().encode(file) { try? Ledger.writeDurably(d, to: path) }
        } else {
            unlink(path)
            if !file.entries.contains(where: { $0.state == .pending }) { out.lines.append("run \(file.runId): ledger clean, removed") }
        }
    }
}

extension Recovery {
    /// Runs `faultline recover --all` inside every live host of every lab under `labDataRoot`,
    /// where each host's agents keep their ledgers (in the host's private /run).
    public static func recoverLabs(labDataRoot: String, executable: String, force: Bool) -> Outcome {
        var out = Outcome()
        for lab in LabState.all(dataRoot: labDataRoot) {
            for host in lab.hosts {
                // Its pid comes from a file: entered only if it still is a lab's init.
                guard let p = host.initProcess, LabState.isLabInit(p, of: host) else { continue }
                let launch = HostEntry.namespaces(initPid: p.pid).faultline(SelfCommand(executable: executable)) {
                    $0.recover(runId: nil, stateDirectory: "/run/faultline", force: force)
                }
                let r = Spawner.run(.argv(launch.argv), timeout: 60_000_000_000, inherit: launch.inherit)
                let lines = r.output.split(separator: "\n").map { "lab \(lab.lab) host \(host.name): \($0)" }
                out.lines += lines.filter { !$0.contains("nothing to recover") }
                if r.status != 0 { out.failures += 1 }
            }
        }
        return out
    }
}

extension Recovery {
    /// The file in a run's ssh control directory naming the runner that made it.
    static let sshOwnerFile = "owner"

    /// Marks `directory` (a run's ssh control directory) as this process's.
    static func markSSHDirectory(_ directory: String) {
        let me = getpid()
        try? "\(me) \(ProcFS.stat(me)?.startTime ?? 0)\n".write(toFile: "\(directory)/\(sshOwnerFile)", atomically: true, encoding: .utf8)
    }

    /// Removes the ssh control directories (`ssh-*` under `directory`) of runners that are gone,
    /// first ending any master connection still listening there (a killed runner's masters stay
    /// up for ControlPersist's minute). A live runner's directory is left alone unless `force`;
    /// one without an owner file is removed only when none of its sockets answers.
    public static func sweepSSHDirectories(_ directory: String, force: Bool) -> Outcome {
        var out = Outcome()
        // Nothing in a state directory others could write is trusted: not its ledgers, and not
        // its ssh-* entries, which could name any directory to delete.
        var st = stat()
        guard lstat(directory, &st) == 0 else { return out }
        if let problem = Ledger.untrusted(directory, st, directory: true) {
            out.lines.append("\(problem); no ssh control directory in it was touched")
            out.failures += 1
            return out
        }
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix("ssh-") }.sorted()
        for name in entries {
            var dir = "\(directory)/\(name)"
            // A link stands for a directory made in /tmp (a state path too long for a socket
            // path); only a /tmp/ssh-* directory of this user's, closed to others, is followed,
            // and the link goes with it.
            var link: String?
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: dir) {
                guard target.hasPrefix("/tmp/ssh-"), !target.dropFirst(5).contains("/") else { continue }
                var t = stat()
                guard lstat(target, &t) == 0 else {
                    try? FileManager.default.removeItem(atPath: dir)
                    out.lines.append("ssh control directory \(ShownText.escaped(name)): its /tmp directory is gone; link removed")
                    continue
                }
                guard (t.st_mode & S_IFMT) == S_IFDIR, t.st_uid == geteuid(), t.st_mode & 0o077 == 0 else {
                    out.lines.append(
                        "ssh control directory \(ShownText.escaped(name)) names \(ShownText.escaped(target)), which is not a private directory of this user's; left alone"
                    )
                    out.failures += 1
                    continue
                }
                link = dir
                dir = target
            }
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else { continue }
            let sockets = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0 != sshOwnerFile }.sorted()
            let owner = (try? String(contentsOfFile: "\(dir)/\(sshOwnerFile)", encoding: .utf8)).flatMap(ownerRef)
            let check = { (socket: String, command: String) in
                Spawner.run(
                    .argv(["ssh", "-o", "ControlPath=\(dir)/\(socket)", "-O", command, "--", "faultline-recover"]), timeout: 5_000_000_000
                )
                .status == 0
            }
            if !force {
                if let owner, ProcFS.isAlive(owner) {
                    out.lines.append("ssh control directory \(name): its runner (pid \(owner.pid)) is alive; left alone")
                    continue
                }
                if owner == nil, sockets.contains(where: { check($0, "check") }) {
                    out.lines.append("ssh control directory \(name): a master connection still answers and no runner is named; left alone")
                    continue
                }
            }
            let ended = sockets.filter { check($0, "exit") }
            do {
                try FileManager.default.removeItem(atPath: dir)
                if let link { try FileManager.default.removeItem(atPath: link) }
                let masters = ended.isEmpty ? "" : ", after ending its master connection(s) to \(ended.joined(separator: ", "))"
                out.lines.append("ssh control directory \(name) of a runner that is gone: removed\(masters)")
            } catch {
                out.lines.append("ssh control directory \(name): cannot remove: \(error)")
                out.failures += 1
            }
        }
        return out
    }

    private static func ownerRef(_ text: String) -> ProcessRef? {
        let parts = text.split(whereSeparator: \.isWhitespace)
        guard parts.count == 2, let pid = Int32(parts[0]), let start = UInt64(parts[1]) else { return nil }
        return ProcessRef(pid: pid, startTime: start, name: "runner")
    }
}
