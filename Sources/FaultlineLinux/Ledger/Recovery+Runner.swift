import FaultlineCore
import Foundation
import Glibc

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
