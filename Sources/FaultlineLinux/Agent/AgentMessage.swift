import FaultlineCore
import Foundation

/// A request from the runner to a host agent: one JSON object per line on the agent's stdin.
public struct AgentRequest: Codable, Equatable, Sendable {
    public var id: Int
    public var op: Op

    public init(id: Int, op: Op) {
        self.id = id
        self.op = op
    }

    public enum Op: Codable, Equatable, Sendable {
        /// Who are you; also starts the lease with `expiresInNs`.
        case hello(expiresInNs: Int64)
        /// Extends the lease; the agent acknowledges it at once (a response with id 0), which is
        /// how the runner knows the agent still hears it.
        case lease(expiresInNs: Int64)
        /// Records the host's state for the residue check.
        case snapshot
        /// prepare → record in the ledger → apply → confirm one host's part of a fault. The agent
        /// reverts it by itself `ttlNs` after injecting it if the runner has not.
        case inject(name: String, work: AnyFaultWork, ttlNs: Int64, confirmTimeoutNs: Int64)
        case revert(name: String)
        case revertAll
        /// What differs from the snapshot, plus anything still held or pending.
        case residue
        /// Which of these addresses answer a TCP connect (in `detail`, comma-separated); used
        /// to confirm that a healed partition really heals.
        case reach(addresses: [String])
        /// The live processes matching a selector, as `pid@starttime` (comma-separated, in
        /// `detail`): how a replaced process is told from the one a fault killed.
        case find(selector: ProcessSelector)
        /// Whether the host's kernel has a feature (`netem`); `detail` is `yes: …` or `no: …`,
        /// saying why (the module and the kernel option).
        case capability(String)
        /// Start these fault proxies in the agent (their toxics come with `proxy` faults); they
        /// end with the agent. `detail` lists each one's address, one per line.
        case proxies([ProxyDecl])
        /// Revert everything and exit.
        case bye
    }
}

/// An agent's answer, matched to its request by `id`.
public struct AgentResponse: Codable, Equatable, Sendable {
    public var id: Int
    public var ok: Bool
    public var error: String?
    public var pid: Int32?
    /// Monotonic instants on the agent's clock (the same clock on one machine).
    public var injectedAt: Int64?
    public var confirmed: Bool?
    public var confirmedAt: Int64?
    public var revertedAt: Int64?
    public var detail: String?
    /// What the fault did, measured by its host (given with a revert).
    public var measured: String?
    /// How the effect was confirmed (given with an inject).
    public var confirmation: String?
    public var residue: [String]?

    public init(id: Int, ok: Bool, error: String? = nil) {
        self.id = id
        self.ok = ok
        self.error = error
    }
}

extension JSONEncoder {
    /// Compact snake_case JSON, one object per line: the agent protocol's encoding.
    static var agent: JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        return e
    }
}
