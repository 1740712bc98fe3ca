import FaultlineCore
import Foundation

/// `faultline hosts check`: what a run would find on each host, found the way a run finds it
/// (the same connections, agents and fault preflights), with nothing injected.
public struct HostCheck: Sendable, Equatable {
    public var host: String
    public var transport: String
    /// "yes", or why not.
    public var reachable: String
    /// Who the agent runs as ("root", "root via sudo"), or why it cannot.
    public var login: String
    public var agent: String
    /// The kernel features faults use, each "name yes|no".
    public var kernel: [String]
    /// Each planned fault that touches the host: "name: ok", or its problem.
    public var faults: [String]
    public var ok: Bool
}

extension Runner {
    /// Connects to every host, copies the agent where `install` allows (else reports it
    /// absent), starts agents where present, asks their kernels, and runs every fault's
    /// preflight. Closes everything before it returns.
    public func checkHosts(install: Bool) -> [HostCheck] {
        defer {
            closeAgents()
            releaseLab()
        }
        _ = connectHosts()
        let hostSet = HostSet(experiment)
        // Hashed once: the binary is the same for every host.
        let installer = try? SSHAgentInstall.cached(options.executable)
        var rows: [String: HostCheck] = [:]
        var startable: [String] = []
        for h in experiment.hosts where h.transport != .lab {
            var row = HostCheck(
                host: h.name, transport: h.ssh?.summary ?? h.transport.rawValue, reachable: "yes", login: "-", agent: "-", kernel: [],
                faults: [], ok: true)
            if h.transport == .local {
                row.login = getuid() == 0 ? "root" : "uid \(getuid()) (faults need root)"
                row.ok = getuid() == 0
                row.agent = "this binary"
                startable.append(h.name)
            } else if let link = sshLinks.value[h.name] {
                let id = link.run(["id", "-u"], timeout: 15_000_000_000)
                let sudo = link.target.become == .sudo ? " via sudo" : ""
                row.login =
                    id.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0"
                    ? "root\(sudo)" : "NOT root\(sudo): \(id.stderr.prefix(200))"
                if !row.login.hasPrefix("root") { row.ok = false }
                if let installer {
                    if installer.present(link, installer.remotePath(link.target)) {
                        row.agent = "current (sha256 \(installer.sha256.prefix(12))…)"
                        startable.append(h.name)
                    } else if install, (try? installer.ensure(link, host: h.name, cacheDirectory: options.stateDirectory)) != nil {
                        row.agent = "copied now (sha256 \(installer.sha256.prefix(12))…)"
                        startable.append(h.name)
                    } else {
                        row.agent = "absent: a run copies it (or: hosts check --install)"
                    }
                }
            } else {
                row.reachable = "NO: \(sshFailures.value[h.name] ?? "not connected")"
                row.ok = false
            }
            rows[h.name] = row
        }
        // Agents where they can run, then what their kernels have and what each fault needs.
        if (try? startAgents(only: Set(startable))) == nil {
            for n in startable { rows[n]?.agent += "; did not start" }
        }
        for (name, agent) in agents {
            for feature in ["nftables", "netem", "ifb", "nfqueue", "cgroup2"] {
                let answer = (try? agent.call(.capability(feature), timeout: 10_000_000_000))?.detail ?? "unknown"
                rows[name]?.kernel.append("\(feature) \(answer.hasPrefix("yes") ? "yes" : "no")")
            }
        }
        let calls = AgentCalls { [agents] host, op in try? agents[host]?.call(op, timeout: 10_000_000_000) }
        for step in experiment.faults {
            let touched = step.spec.hosts(in: hostSet)
            guard let driver = FaultDrivers.driver(for: step.spec) else { continue }
            let missing = touched.filter { agents[$0] == nil && rows[$0] != nil }
            if !missing.isEmpty {
                for h in missing { rows[h]?.faults.append("\(step.name): not checked (no agent)") }
                continue
            }
            let p = driver.preflightAny(step.spec, calls)
            for h in touched where rows[h] != nil {
                if let problem = p.problem {
                    rows[h]?.faults.append("\(step.name): CANNOT RUN: \(problem)")
                    rows[h]?.ok = false
                } else {
                    rows[h]?.faults.append("\(step.name): ok" + (p.note.map { " (\($0))" } ?? ""))
                }
            }
        }
        return experiment.hosts.compactMap { rows[$0.name] }
    }
}
