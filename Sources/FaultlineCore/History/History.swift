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

    public struct Op: Codable, Equatable, Sendable {
        public var client: Int
        public var value: String
        public var invokedAt: Nanos
        public var completedAt: Nanos
        public var outcome: Outcome
        /// The endpoint that answered (`198.18.1.11:6379`).
        public var endpoint: String

        public init(client: Int, value: String, invokedAt: Nanos, completedAt: Nanos, outcome: Outcome, endpoint: String) {
            self.client = client
            self.value = value
            self.invokedAt = invokedAt
            self.completedAt = completedAt
            self.outcome = outcome
            self.endpoint = endpoint
        }
    }

    public var writes: [Op] = []
    /// What each replica held at the end (endpoint → values), read after the heal.
    public var finalReads: [String: [String]] = [:]
    /// The endpoint that was primary when the final state was read.
    public var finalPrimary: String?

    public init() {}
}
