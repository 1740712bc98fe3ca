import FaultlineCore

/// Agents as child processes of the runner: the faultline binary itself, run directly or
/// through the host's entry (nsenter into a lab host). Ledgers live on the host: the runner's
/// state directory here, the host's private `/run/faultline` inside a lab host.
public struct SpawnedAgentTransport: AgentTransport {
    public var binary: SelfCommand
    /// Where local agents keep their ledgers.
    public var stateDirectory: String

    public init(binary: SelfCommand, stateDirectory: String) {
        self.binary = binary
        self.stateDirectory = stateDirectory
    }

    func stateDirectory(for entry: HostEntry) -> String { entry == .local ? stateDirectory : "/run/faultline" }

    public func open(_ host: HostSpec, entry: HostEntry, runId: String) throws(AgentError) -> any AgentChannel {
        if case .ssh(let link) = entry {
            // The same binary on the host, copied there if needed and checked by hash; its
            // ledger on the host. The lease runs over this SSH session: when it ends, the agent
            // reverts; when it stalls, the lease expires.
            let install = try SSHAgentInstall.cached(binary.executable)
            _ = try install.ensure(link, host: host.name, cacheDirectory: stateDirectory)
            let remote = SelfCommand(executable: install.remotePath(link.target))
            let argv = remote.agent(runId: runId, stateDirectory: install.stateDirectory(link.target), ownPIDNamespace: false)
            return try ProcessAgentChannel(host: host.name, argv: link.command(install.checked(link.target, argv)), sharesClock: false)
        }
        let dir = stateDirectory(for: entry)
        let launch = entry.faultline(binary) { $0.agent(runId: runId, stateDirectory: dir, ownPIDNamespace: entry.ownPIDNamespace) }
        return try ProcessAgentChannel(host: host.name, argv: launch.argv, inherit: launch.inherit)
    }

    public func recover(_ host: HostSpec, entry: HostEntry, runId: String) -> (ok: Bool, lines: [String]) {
        if case .ssh(let link) = entry {
            guard let install = try? SSHAgentInstall.cached(binary.executable) else { return (false, ["sha256 of the agent failed"]) }
            let remote = SelfCommand(executable: install.remotePath(link.target))
            let argv = remote.recover(runId: runId, stateDirectory: install.stateDirectory(link.target), force: false)
            let r = link.run(install.checked(link.target, argv), timeout: 60_000_000_000)
            return (r.status == 0, Self.lines(r.stdout + r.stderr))
        }
        let dir = stateDirectory(for: entry)
        let launch = entry.faultline(binary) { $0.recover(runId: runId, stateDirectory: dir, force: false) }
        let r = Spawner.run(.argv(launch.argv), timeout: 60_000_000_000, inherit: launch.inherit)
        return (r.status == 0, Self.lines(r.output))
    }

    /// Another program's output as lines for a message: ssh's CR LF and any control character
    /// escaped, each line cut, empty ones left out.
    static func lines(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).map { ShownText.escaped(String($0), limit: 300) }.filter { !$0.isEmpty }
    }
}
