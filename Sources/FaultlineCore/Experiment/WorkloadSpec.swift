/// A client that issues operations at a rate during the fault phase and reads the final state
/// from every replica afterwards. Written values are unique, so loss is decidable.
public struct WorkloadSpec: Codable, Equatable, Sendable {
    public var client: WorkloadClient
    public var rate: Rate
    public var concurrency: Int
    /// Per-operation timeout; a write that times out is recorded as unknown, never as lost.
    public var timeout: Nanos
    /// How long the replicas get to agree after the heal before the final read is taken.
    public var convergeWithin: Nanos

    public init(
        client: WorkloadClient, rate: Rate, concurrency: Int = 1, timeout: Nanos = 500_000_000,
        convergeWithin: Nanos = 10_000_000_000
    ) {
        self.client = client
        self.rate = rate
        self.concurrency = concurrency
        self.timeout = timeout
        self.convergeWithin = convergeWithin
    }

    /// The endpoints read at the end; empty when the workload only measures requests.
    public var replicas: [String] {
        switch client {
        case .redis(let r): return r.replicas
        case .postgres(let p): return p.replicas
        case .http(let h): return h.replicas
        case .command(let c): return c.replicas.map(\.name)
        case .etcd(let e): return e.endpoints
        }
    }

    /// Whether operations are reads and overwrites of single keys (stale reads and
    /// linearizability apply) rather than additions to a set (loss and convergence apply).
    public var isRegister: Bool {
        switch client {
        case .redis(let r): return r.mode == .register
        case .postgres(let p): return p.registers != nil
        case .etcd: return true
        default: return false
        }
    }

    /// The kinds an experiment may name under `workload:`.
    public static let kinds = ["redis", "postgres", "http", "command", "etcd"]
}

public enum WorkloadClient: Codable, Equatable, Sendable {
    case redis(RedisWorkload)
    case postgres(PostgresWorkload)
    case http(HTTPWorkload)
    case command(CommandWorkload)
    case etcd(EtcdWorkload)

    public var kind: String {
        switch self {
        case .redis: return "redis"
        case .postgres: return "postgres"
        case .http: return "http"
        case .command: return "command"
        case .etcd: return "etcd"
        }
    }
}

/// Redis, as a set (`RPUSH key value` per write, `LRANGE` at the end) or as registers
/// (`SET`/`GET` on a few keys, for stale-read and linearizability checks). Writes go to the
/// primary Sentinel names (re-resolved after any error) or to a fixed address.
public struct RedisWorkload: Codable, Equatable, Sendable {
    public enum Mode: String, Codable, Sendable, CaseIterable {
        case set
        case register
    }
    public var sentinels: [String]
    public var master: String
    public var address: String?
    public var key: String
    public var replicas: [String]
    public var mode: Mode
    /// Register mode: how many keys, and the share of operations that are reads.
    public var keys: Int
    public var readShare: Double

    public init(
        sentinels: [String] = [], master: String = "mymaster", address: String? = nil, key: String = "faultline:set",
        replicas: [String], mode: Mode = .set, keys: Int = 5, readShare: Double = 0.5
    ) {
        self.sentinels = sentinels
        self.master = master
        self.address = address
        self.key = key
        self.replicas = replicas
        self.mode = mode
        self.keys = keys
        self.readShare = readShare
    }
}

/// PostgreSQL through libpq: one `INSERT` of a unique row per write, on the server the
/// connection string leads to (`target_session_attrs=read-write` follows the primary);
/// `SELECT` of the table on every replica at the end.
public struct PostgresWorkload: Codable, Equatable, Sendable {
    public var connection: String
    public var table: String
    public var replicas: [String]
    /// Register mode when set: upserts and reads of this many keys (`k`, `v` columns).
    public var registers: Int?
    public var readShare: Double
    /// Where reads go (e.g. a standby); default: `connection`.
    public var readConnection: String?

    public init(
        connection: String, table: String = "faultline_writes", replicas: [String], registers: Int? = nil, readShare: Double = 0.5,
        readConnection: String? = nil
    ) {
        self.connection = connection
        self.table = table
        self.replicas = replicas
        self.registers = registers
        self.readShare = readShare
        self.readConnection = readConnection
    }
}

/// Requests through libcurl. `{value}` (unique per operation) and `{key}` are replaced in the
/// URL and body. With `backend_header`, the header's value names the backend that answered
/// (for load-balancing checks). `replicas` are URLs that list the stored values, one per line.
public struct HTTPWorkload: Codable, Equatable, Sendable {
    public var url: String
    public var method: String
    public var body: String?
    public var backendHeader: String?
    public var replicas: [String]
    /// When set, `{key}` cycles through this many keys (`k0`, `k1`, …), so a load balancer's
    /// key → backend mapping can be checked for stickiness.
    public var keys: Int?

    public init(url: String, method: String = "GET", body: String? = nil, backendHeader: String? = nil, replicas: [String] = []) {
        self.url = url
        self.method = method
        self.body = body
        self.backendHeader = backendHeader
        self.replicas = replicas
    }
}

/// Anything else: `write` runs once per operation with `{value}` (unique) replaced in its
/// arguments; exit 0 is acknowledged, another status failed, a timeout unknown. Each replica
/// is a command that prints the stored values, one per line.
public struct CommandWorkload: Codable, Equatable, Sendable {
    public struct Replica: Codable, Equatable, Sendable {
        public var name: String
        public var read: CommandSpec

        public init(name: String, read: CommandSpec) {
            self.name = name
            self.read = read
        }
    }
    public var write: CommandSpec
    /// The first replica is the one loss is judged against.
    public var replicas: [Replica]

    public init(write: CommandSpec, replicas: [Replica]) {
        self.write = write
        self.replicas = replicas
    }
}

/// etcd's key-value API (v3, through its JSON gateway on the client port): registers as `put`
/// and linearizable `range` of a few keys. Each client sends its requests to the endpoints in
/// turn, as etcd's Go client does. A write that errs or times out is unknown:
/// etcd may have committed it (a timed-out proposal, a leader change). At the end each member
/// is read locally (a serializable range), so replicas compare.
public struct EtcdWorkload: Codable, Equatable, Sendable {
    /// Client URLs' host:port, e.g. `198.18.8.11:2379`.
    public var endpoints: [String]
    /// Keys are `<key><0..<keys>`.
    public var key: String
    public var keys: Int
    public var readShare: Double
    /// `serializable: true`: reads answered from the member's own copy without asking the
    /// leader — faster, and, as etcd documents, possibly stale.
    public var serializable: Bool

    public init(
        endpoints: [String], key: String = "faultline/register/", keys: Int = 5, readShare: Double = 0.5, serializable: Bool = false
    ) {
        self.endpoints = endpoints
        self.key = key
        self.keys = keys
        self.readShare = readShare
        self.serializable = serializable
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
