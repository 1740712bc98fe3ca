import FaultlineEssentials
import FoundationEssentials

/// A request from the runner to a host agent: one JSON object per line on the agent's stdin.
///
/// An *armed* request is sent ahead of its instant and held by the agent, decoded and ready,
/// until a go line names its id (`{"go":[ID,…]}`, read without the JSON decoder): a fault fired on
/// many hosts at its scheduled instant costs each of them a few bytes on the wire and no
/// decoding then. An armed request that never gets its go is dropped when the agent ends.
public struct AgentRequest: Codable, Equatable, Sendable {
    public var id: Int
    public var op: Op
    /// Held until its go line, rather than performed at once.
    public var armed: Bool?

    public init(id: Int, op: Op, armed: Bool? = nil) {
        self.id = id
        self.op = op
        self.armed = armed
    }

    /// The line that performs the armed requests `ids` together (the faults of one instant on
    /// one host): `{"go":[3,4,5]}`.
    public static func go(_ ids: [Int]) -> [UInt8] { Array("{\"go\":[\(ids.map(String.init).joined(separator: ","))]}".utf8) }

    /// The ids of a go line, or nil when the line is another request.
    public static func goIds<C: BidirectionalCollection<UInt8>>(_ line: C) -> [Int]? {
        let prefix = Array("{\"go\":[".utf8)
        guard line.count > prefix.count + 2, line.starts(with: prefix), line.last == UInt8(ascii: "}"),
            line.dropLast().last == UInt8(ascii: "]")
        else { return nil }
        var ids: [Int] = []
        var id = 0
        var digits = 0
        for b in line.dropFirst(prefix.count).dropLast(2) {
            if b == UInt8(ascii: ",") {
                guard digits > 0 else { return nil }
                ids.append(id)
                (id, digits) = (0, 0)
                continue
            }
            guard digits < 18, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            id = id * 10 + Int(b - UInt8(ascii: "0"))
            digits += 1
        }
        guard digits > 0 else { return nil }
        return ids + [id]
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
    /// The agent's monotonic clock when it answered (hello and lease acknowledgements): how the
    /// runner maps the agent's instants onto its own clock when they are not the same clock.
    public var now: Int64?
    /// Monotonic instants on the agent's clock (the runner's own clock when they share a
    /// kernel; mapped through `AgentClient.clock` otherwise).
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

extension JSONText {
    /// Compact snake_case JSON with sorted keys, one object per line: the agent protocol's
    /// encoding (JSONText's: an agent answers at a fault's instant, and Foundation's encoder
    /// takes a longer path through the Swift runtime for each type it meets).
    package static var agent: JSONText { JSONText(compact: true) }
}
