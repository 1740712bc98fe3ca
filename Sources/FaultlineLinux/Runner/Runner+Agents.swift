import FaultlineCore
import Foundation

extension Runner {
    /// The command that starts a host's agent.
    func agentCommand(for host: HostSpec) -> [String] {
        switch host.transport {
        case .local:
            return [options.executable, "agent", "--run", options.runId, "--state-dir", options.stateDirectory]
        }
    }

    /// Starts one agent per host that has faults, before anything is checked or injected.
    func startAgents() throws(AgentError) {
        let used = Set(experiment.faults.map(\.spec.host))
        for host in experiment.hosts where used.contains(host.name) {
            var lease = AgentClient.Lease()
            lease.renewEvery = experiment.settings.leaseRenew
            lease.expiresIn = experiment.settings.leaseExpiry
            agents[host.name] = try AgentClient(host: host.name, argv: agentCommand(for: host), lease: lease)
            event("agent on \(host.name) ready", "pid \(agents[host.name]?.pid ?? 0)")
        }
    }

    /// Each agent records its host's state; the runner records its own namespace when no agent
    /// runs on the local host.
    func takeSnapshots() {
        for (host, agent) in agents {
            if let r = try? agent.call(.snapshot, timeout: 10_000_000_000) {
                for p in r.residue ?? [] { event("residue check limited on \(host)", p) }
            }
        }
        guard agents["local"] == nil else { return }
        let (snapshot, problems) = HostSnapshot.take()
        before = snapshot
        for p in problems { event("residue check limited", p) }
    }

    /// Ends every agent session (each reverts anything still held before it exits).
    func closeAgents() {
        for (_, agent) in agents { agent.close() }
        agents = [:]
    }
}
