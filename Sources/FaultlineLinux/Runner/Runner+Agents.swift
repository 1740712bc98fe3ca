import FaultlineCore
import Foundation

extension Runner {
    /// The command that starts a host's agent: here, or inside a lab host's network, PID and
    /// mount namespaces (its ledger then lives in the host's private /run).
    func agentCommand(for host: HostSpec) throws(AgentError) -> [String] {
        switch host.transport {
        case .local:
            return [options.executable, "agent", "--run", options.runId, "--state-dir", options.stateDirectory]
        case .lab:
            guard let initProcess = labState?.hosts.first(where: { $0.name == host.name })?.initProcess, ProcFS.isAlive(initProcess) else {
                throw AgentError.failed(host.name, "the lab host is not running")
            }
            return [
                "nsenter", "--target", String(initProcess.pid), "--net", "--pid", "--mount", "--",
                options.executable, "agent", "--run", options.runId, "--state-dir", "/run/faultline", "--own-pid-namespace",
            ]
        }
    }

    /// Uses the experiment's lab if it is up, or brings it up (and owns it) otherwise.
    func prepareLab() throws(LabError) {
        guard let lab = experiment.lab else { return }
        let manager = LabManager(dataRoot: options.labDataRoot, executable: options.executable) { [self] in event($0) }
        if let state = LabState.read(dataRoot: options.labDataRoot, lab: lab.name) {
            let dead = state.hosts.filter { !($0.initProcess.map(ProcFS.isAlive) ?? false) }.map(\.name)
            guard dead.isEmpty else {
                throw LabError.refused(
                    "lab '\(lab.name)' is up but hosts \(dead.joined(separator: ", ")) are not running; 'faultline lab down \(lab.name)' first"
                )
            }
            labState = state
            event("lab \(lab.name) already up", "used as it is and left up")
            return
        }
        try manager.up(lab)
        ownsLab = true
        labState = LabState.read(dataRoot: options.labDataRoot, lab: lab.name)
    }

    /// Takes down a lab this run brought up, unless asked to keep it.
    func releaseLab() {
        guard ownsLab, let lab = experiment.lab else { return }
        ownsLab = false
        if options.keepLab {
            event("lab \(lab.name) kept", "faultline lab down \(lab.name) removes it")
            return
        }
        let problems = LabManager(dataRoot: options.labDataRoot, executable: options.executable) { [self] in event($0) }.down(lab.name)
        journal.residue += problems.map { "lab \(lab.name): \($0)" }
    }

    /// Starts one agent per host that has faults, before anything is checked or injected.
    func startAgents() throws(AgentError) {
        let labHosts = experiment.hosts.filter { $0.transport == .lab }.map(\.name)
        var used = Set(experiment.faults.map(\.spec.host))
        for f in experiment.faults {
            if case .partition(let p) = f.spec { used.formUnion(p.grudges(among: labHosts).keys) }
            // A role can resolve to any lab host: each needs its agent before the fault fires.
            if Self.role(of: f.spec) != nil { used.formUnion(labHosts) }
        }
        for host in experiment.hosts where used.contains(host.name) {
            var lease = AgentClient.Lease()
            lease.renewEvery = experiment.settings.leaseRenew
            lease.expiresIn = experiment.settings.leaseExpiry
            agents[host.name] = try AgentClient(host: host.name, argv: try agentCommand(for: host), lease: lease)
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
