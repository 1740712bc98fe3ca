/// What a workload did: every operation with its invocation and completion, on the monotonic
/// clock. Values written are unique, so whether each one survived is decidable.
public struct History: Codable, Equatable, Sendable {
    public enum Outcome: String, Codable, Sendable {
        /// Acknowledged by the system.
        case ok
        /// Definitely not applied (the system said no before doing anything).
        case fail
        /// Unknown: timed out or the connection broke; it may or may not have been applied.
        case unknown
    }

    public enum Kind: String, Codable, Sendable {
        case write
        case read
    }

    public struct Op: Codable, Equatable, Sendable {
        public var client: Int
        public var kind: Kind
        /// The register a register workload touched; empty for a set workload.
        public var key: String
        /// The value written, or for a read the value it returned ("" for none).
        public var value: String
        public var invokedAt: Nanos
        public var completedAt: Nanos
        public var outcome: Outcome
        /// The endpoint that answered (`198.18.1.11:6379`).
        public var endpoint: String

        public init(
            client: Int, kind: Kind = .write, key: String = "", value: String, invokedAt: Nanos, completedAt: Nanos, outcome: Outcome,
            endpoint: String
        ) {
            self.client = client
            self.kind = kind
            self.key = key
            self.value = value
            self.invokedAt = invokedAt
            self.completedAt = completedAt
            self.outcome = outcome
            self.endpoint = endpoint
        }
    }

    /// Every operation, writes and reads, in the order they completed per client.
    public var ops: [Op] = []
    /// What each replica held at the end (endpoint → values), read after the heal.
    public var finalReads: [String: [String]] = [:]
    /// Replicas listed in the experiment that could not be read at the end.
    public var unreadReplicas: [String] = []
    /// The endpoint that was primary when the final state was read.
    public var finalPrimary: String?

    public init() {}
}
