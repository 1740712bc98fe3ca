/// A client that writes unique values at a rate during the fault phase and reads the final
/// state from every replica afterwards (a set workload: loss is decidable).
public struct WorkloadSpec: Codable, Equatable, Sendable {
    public var redis: RedisWorkload
    public var rate: Rate
    public var concurrency: Int
    /// Per-operation timeout; a write that times out is recorded as unknown, never as lost.
    public var timeout: Nanos
    /// How long the replicas get to agree after the heal before the final read is taken.
    public var convergeWithin: Nanos

    public init(
        redis: RedisWorkload, rate: Rate, concurrency: Int = 1, timeout: Nanos = 500_000_000, convergeWithin: Nanos = 10_000_000_000
    ) {
        self.redis = redis
        self.rate = rate
        self.concurrency = concurrency
        self.timeout = timeout
        self.convergeWithin = convergeWithin
    }
}

/// Redis: `RPUSH key value` per write, at the primary Sentinel names (re-resolved after any
/// error) or at a fixed address; `LRANGE key 0 -1` on every replica at the end.
public struct RedisWorkload: Codable, Equatable, Sendable {
    public var sentinels: [String]
    public var master: String
    public var address: String?
    public var key: String
    public var replicas: [String]

    public init(
        sentinels: [String] = [], master: String = "mymaster", address: String? = nil, key: String = "faultline:set", replicas: [String]
    ) {
        self.sentinels = sentinels
        self.master = master
        self.address = address
        self.key = key
        self.replicas = replicas
    }
}

extension Rate: Codable {
    public init(from decoder: any Decoder) throws {
        self.init(perSecond: try decoder.singleValueContainer().decode(Double.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(perSecond)
    }
}
