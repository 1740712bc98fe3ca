import FaultlineCore

/// Starts agents: "start the agent of this run on host H and give me its JSON-lines channel".
/// The transport is the only thing that differs between a local agent, one inside a lab host
/// and (later) one over SSH; the protocol above it is the same.
public protocol AgentTransport: Sendable {
    /// Starts the agent of `runId` on `host`, reached through `entry`.
    func open(_ host: HostSpec, entry: HostEntry, runId: String) throws(AgentError) -> any AgentChannel
    /// Replays what the host's ledger of `runId` still holds (`faultline recover --run`), after
    /// its agent was lost; the lines it printed.
    func recover(_ host: HostSpec, entry: HostEntry, runId: String) -> (ok: Bool, lines: [String])
}

/// One agent's JSON-lines channel: requests go in, responses come out, one object per line.
public protocol AgentChannel: AnyObject, Sendable {
    /// The agent's process as the runner sees it (0 when it has none).
    var pid: Int32 { get }
    /// Whether the agent reads the runner's monotonic clock (the same kernel: a local agent or
    /// a lab host's); an agent on another machine has its own, mapped through its readings.
    var sharesClock: Bool { get }
    /// Sends one line (without its newline); false once the agent is gone.
    func send(_ line: [UInt8]) -> Bool
    /// The next line (without its newline), waiting for it; nil at the end of the channel.
    func receive() -> [UInt8]?
    /// Closes the input (the agent reverts and exits) and waits up to `grace` nanoseconds for the
    /// agent to end before it is killed.
    func close(grace: Int64)
}
