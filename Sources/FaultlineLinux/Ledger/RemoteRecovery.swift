import FaultlineCore
import Foundation

/// `faultline recover --hosts FILE`: the ledgers of ssh hosts live on each host, so recovery
/// runs there, by the agent binary a run installed (checked by hash), over a connection of
/// its own (no master: the run that had one is gone).
public enum RemoteRecovery {
    public static func recover(_ hosts: [HostSpec], executable: String, runId: String?, force: Bool) -> (lines: [String], failures: Int) {
        let ssh = hosts.filter { $0.transport == .ssh }
        guard !ssh.isEmpty else { return ([], 0) }
        guard let install = try? SSHAgentInstall.cached(executable) else { return (["cannot hash \(executable)"], 1) }
        let results = Parallel.map(ssh, limit: 16) { h -> (lines: [String], failed: Bool) in
            guard let target = h.ssh else { return ([], false) }
            let link = SSHLink(target: target, controlPath: "/nonexistent/\(h.name)")
            let path = install.remotePath(target)
            // The hash is checked when the recovery starts (`checked`), not twice.
            guard install.installed(link, path) else {
                let probe = link.run(["true"], timeout: 15_000_000_000)
                if probe.status != 0 { return (["\(h.name): cannot reach \(target.summary): \(probe.stderr.suffix(200))"], true) }
                return (["\(h.name): no agent of this version (\(path)): no ledger of its runs to replay"], false)
            }
            let argv = SelfCommand(executable: path).recover(runId: runId, stateDirectory: install.stateDirectory(target), force: force)
            let r = link.run(install.checked(target, argv), timeout: 120_000_000_000)
            let lines = (r.stdout + r.stderr).split(whereSeparator: \.isNewline).map { "\(h.name): \($0)" }
            return (lines.isEmpty ? ["\(h.name): nothing pending"] : lines, r.status != 0)
        }
        return (results.flatMap(\.lines), results.filter(\.failed).count)
    }
}
