import FaultlineCore
import Foundation

extension Runner {
    /// How commands and agents reach a host: here, or inside a running lab host's namespaces.
    func entry(for host: String) -> HostEntry? {
        guard let spec = experiment.hosts.first(where: { $0.name == host }) else { return nil }
        switch spec.transport {
        case .local: return .local
        case .lab:
            return labState.flatMap { environment.labs.entry($0, host: host) }
        case .ssh:
            return sshLinks.value[host].map { .ssh($0) }
        }
    }

    /// One SSH master connection per ssh host, opened at once (at most 32 at a time), before
    /// anything is checked or injected. False (the run is invalid, nothing was injected, every
    /// host that did connect is closed again) when one host cannot be reached, naming it.
    func connectHosts() -> Bool {
        let hosts = experiment.hosts.filter { $0.transport == .ssh }
        guard !hosts.isEmpty else { return true }
        // Under the state directory (a killed runner's sockets stay with its ledgers); in /tmp
        // when that path would make a socket path too long for a Unix socket (108 bytes).
        let longest = hosts.map(\.name.utf8.count).max() ?? 0
        let base = options.stateDirectory.utf8.count + 12 + longest < 100 ? options.stateDirectory : "/tmp"
        try? FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        var template = Array("\(base)/ssh-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template).map({ String(cString: $0) }) else {
            invalidReasons.append("ssh: cannot make a private directory for the control sockets: \(errnoText())")
            return false
        }
        sshDirectory = dir
        Recovery.markSSHDirectory(dir)
        // Made in /tmp: a link to it in the state directory, so `recover --all` finds it there.
        if base != options.stateDirectory {
            try? FileManager.default.createSymbolicLink(
                atPath: "\(options.stateDirectory)/\((dir as NSString).lastPathComponent)", withDestinationPath: dir)
        }
        // The agent's hash while the masters come up (every start needs it). Its compressed copy
        // is made only when a host lacks the agent, so a warm run compresses nothing and an
        // early exit leaves no half-written copy behind.
        let executable = options.executable
        PThread { _ = try? SSHAgentInstall.cached(executable) }.start()
        let results = Parallel.map(hosts, limit: 32) { h -> (String, Result<SSHLink, SSHFailure>) in
            (h.name, SSHLink.open(h.ssh ?? SSHTarget(host: h.name), host: h.name, directory: dir))
        }
        var ok = true
        for (name, r) in results {
            switch r {
            case .success(let link):
                sshLinks.mutate { $0[name] = link }
                emit(.hostConnected(host: name, detail: link.target.summary))
            case .failure(let f):
                sshFailures.mutate { $0[name] = f.text }
                invalidReasons.append("host '\(name)' cannot be reached, so nothing was injected: \(f.text)")
                emit(.hostUnreachable(host: name, problem: f.text))
                ok = false
            }
        }
        return ok
    }

    /// Closes every SSH master connection and its private directory.
    func closeHosts() {
        let links = sshLinks.value
        sshLinks.mutate { $0 = [:] }
        _ = Parallel.map(Array(links.values)) { $0.close() }
        if let dir = sshDirectory {
            try? FileManager.default.removeItem(atPath: dir)
            let link = "\(options.stateDirectory)/\((dir as NSString).lastPathComponent)"
            if (try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == dir {
                try? FileManager.default.removeItem(atPath: link)
            }
            sshDirectory = nil
        }
    }

    /// Uses the experiment's lab if it is up, or brings it up (and owns it) otherwise.
    func prepareLab() throws(LabError) {
        guard let lab = experiment.lab else { return }
        let (state, owned) = try environment.labs.acquire(lab) { [self] in emit(.lab($0)) }
        labState = state
        ownsLab = owned
        if !owned { emit(.lab("lab \(lab.name) already up", detail: "used as it is and left up")) }
    }

    /// Takes down a lab this run brought up, unless asked to keep it.
    func releaseLab() {
        readLabLogs()
        guard ownsLab, let lab = experiment.lab else { return }
        ownsLab = false
        if options.keepLab {
            emit(.lab("lab \(lab.name) kept", detail: "faultline lab down \(lab.name) removes it"))
            return
        }
        let problems = environment.labs.release(lab.name) { [self] in emit(.lab($0)) }
        journal.residue += problems.map { "lab \(lab.name): \($0)" }
    }

    /// Starts one agent per host a fault may touch, before anything is checked or injected.
    func startAgents(only: Set<String>? = nil) throws(AgentError) {
        let hosts = HostSet(experiment)
        let used = only ?? Set(experiment.faults.flatMap { $0.spec.hosts(in: hosts) } + experiment.proxies.map(\.host))
        var lease = AgentClient.Lease()
        lease.renewEvery = experiment.settings.leaseRenew
        lease.expiresIn = experiment.settings.leaseExpiry
        // One thread per host (at most 32 at a time): an agent over SSH takes a session and a
        // round trip to start (a copy first where absent), and a fleet must not pay them one
        // host after another.
        let targets = try experiment.hosts.filter { used.contains($0.name) }.map { host throws(AgentError) -> (HostSpec, HostEntry) in
            guard let e = entry(for: host.name) else { throw AgentError.failed(host.name, "the lab host is not running") }
            return (host, e)
        }
        let transport = environment.transport
        let runId = options.runId
        let origin = self.origin
        let started = Parallel.map(targets, limit: 32) { [lost, interrupts, lease] pair -> (String, Result<AgentClient, AgentError>) in
            let (host, entry) = pair
            let name = host.name
            let r = Result { () throws(AgentError) -> AgentClient in
                let channel = try transport.open(host, entry: entry, runId: runId)
                return try AgentClient(host: name, channel: channel, lease: lease) { why in
                    // When, on the run's clock: a residue it could not check says since when.
                    let at = DurationText.format(MonotonicInstant.now - origin)
                    lost.mutate { $0[name] = "\(ShownText.escaped(why, limit: 300)), at +\(at)" }
                    interrupts.wake()
                }
            }
            return (name, r)
        }
        var failure: AgentError?
        for (name, r) in started {
            switch r {
            case .success(let client):
                agents[name] = client
                emit(.agentReady(host: name, pid: client.pid))
            case .failure(let e):
                failure = failure ?? e
            }
        }
        if let failure { throw failure }
    }

    /// Every fault made ready for its hosts before anything is checked or injected; false (the
    /// run is invalid, nothing was injected) when one cannot run there.
    func preflight() -> Bool {
        let agents = self.agents
        let calls = AgentCalls { host, op in try? agents[host]?.call(op, timeout: 10_000_000_000) }
        var ok = true
        for step in experiment.faults {
            guard let driver = FaultDrivers.driver(for: step.spec) else { continue }
            let p = driver.preflightAny(step.spec, calls)
            prepared[step.name] = (p.spec, p.note)
            if let note = p.note { emit(.preflight(fault: step.name, note: note)) }
            if let problem = p.problem {
                invalidReasons.append("fault '\(step.name)' cannot run, so nothing was injected: \(problem)")
                emit(.preflightFailed(fault: step.name, problem: problem))
                ok = false
            }
        }
        return ok
    }

    /// The experiment's proxies, each in its host's agent, before the steady state (which may
    /// already go through them); one that cannot listen makes the run invalid.
    func startProxies() -> Bool {
        var ok = true
        for host in Set(experiment.proxies.map(\.host)).sorted() {
            let decls = experiment.proxies.filter { $0.host == host }
            guard let agent = agents[host] else {
                invalidReasons.append("proxies on '\(host)': no agent runs there")
                emit(.proxyFailed(host: host, problem: "no agent"))
                ok = false
                continue
            }
            do {
                let r = try agent.call(.proxies(decls), timeout: 10_000_000_000)
                if r.ok {
                    emit(.proxyStarted(host: host, detail: (r.detail ?? "").replacingOccurrences(of: "\n", with: "; ")))
                } else {
                    invalidReasons.append("proxies on '\(host)' could not start, so nothing was injected: \(r.error ?? "")")
                    emit(.proxyFailed(host: host, problem: r.error ?? ""))
                    ok = false
                }
            } catch {
                invalidReasons.append("proxies on '\(host)' could not start: \(error)")
                emit(.proxyFailed(host: host, problem: "\(error)"))
                ok = false
            }
        }
        return ok
    }

    /// Each agent records its host's state; the runner records its own namespace when no agent
    /// runs on the local host.
    func takeSnapshots() {
        for (host, agent) in agents.sorted(by: { $0.key < $1.key }) {
            if let r = try? agent.call(.snapshot, timeout: 10_000_000_000) {
                for p in r.residue ?? [] { emit(.residueLimited(host: host, p)) }
            }
        }
        guard agents["local"] == nil, let snapshot = environment.snapshot else { return }
        let (s, problems) = snapshot()
        before = s
        for p in problems { emit(.residueLimited(host: nil, p)) }
    }

    /// An agent that was lost may have died without reverting: close what is left of its
    /// session and replay the host's ledger, once.
    func recoverLost(_ host: String) {
        guard recovered.insert(host).inserted, let spec = experiment.hosts.first(where: { $0.name == host }) else { return }
        agents[host]?.close()
        let why = lost.value[host].map { " (\($0))" } ?? ""
        guard let entry = entry(for: host) else {
            journal.residue.append(
                "\(host): not verified: its agent was lost\(why) and the host cannot be reached to replay its ledger; its lease reverts what it held"
            )
            return
        }
        let (ok, lines) = environment.transport.recover(spec, entry: entry, runId: options.runId)
        emit(.recovered(host: host, ok: ok, lines: lines))
        if !ok {
            journal.residue.append(
                "\(host): not verified: its agent was lost\(why) and replaying its ledger failed (\(lines.joined(separator: "; "))); its lease reverts what it held"
            )
        }
    }

    /// Ends every agent session (each reverts anything still held before it exits).
    func closeAgents() {
        for (_, agent) in agents { agent.close() }
        agents = [:]
        closeHosts()
    }
}
