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
            // The agent on the host, checked by hash, its ledger on the host; one session
            // when it is installed, and else a copy and a second start. The lease runs over
            // this SSH session: when it ends, the agent reverts; when it stalls, it expires.
            let install = try SSHAgentInstall.cached(binary.executable)
            let remote = SelfCommand(executable: install.remotePath(link.target))
            let argv = remote.agent(runId: runId, stateDirectory: install.stateDirectory(link.target), ownPIDNamespace: false)
            for attempt in 0..<2 {
                let channel = try ProcessAgentChannel(
                    host: host.name, argv: link.command(install.started(link.target, argv)), sharesClock: false)
                let first = channel.receive().map { String(decoding: $0, as: UTF8.self) }
                let said = first.flatMap(SSHAgentInstall.StartLine.init)
                if said == .start { return channel }
                channel.close(grace: 2_000_000_000)
                switch said {
                case .absent(let tools) where attempt == 0:
                    _ = try install.upload(link, host: host.name, cacheDirectory: stateDirectory, hostHas: tools)
                case .refused(let why):
                    throw AgentError.failed(host.name, "the agent was not started: \(ShownText.escaped(why, limit: 300))")
                default:
                    let what = first.map { "it said '\(ShownText.escaped($0, limit: 200))'" } ?? "its session ended first"
                    throw AgentError.failed(host.name, "the agent on \(link.target.summary) did not start: \(what)")
                }
            }
            throw AgentError.failed(host.name, "the agent on \(link.target.summary) was absent again after its copy")
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
