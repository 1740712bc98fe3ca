/// A read-only observation with a timeout. Probes never judge; tolerances and checkers do.
public struct ProbeSpec: Codable, Equatable, Sendable {
    public var name: String
    public var kind: Kind
    /// Interval between samples for a continuous probe.
    public var interval: Nanos?
    /// Tolerance: a sample slower than this counts as a failure.
    public var maxLatency: Nanos?
    /// Where the file wrote it (`probes[2]`), for messages; empty when not read from a file.
    public var path: String

    public init(name: String, kind: Kind, interval: Nanos? = nil, maxLatency: Nanos? = nil, path: String = "") {
        self.name = name
        self.kind = kind
        self.interval = interval
        self.maxLatency = maxLatency
        self.path = path
    }

    /// Where it was written is not part of what it is.
    public static func == (a: ProbeSpec, b: ProbeSpec) -> Bool {
        a.name == b.name && a.kind == b.kind && a.interval == b.interval && a.maxLatency == b.maxLatency
    }

    public enum Kind: Codable, Equatable, Sendable {
        case http(HTTP)
        case tcp(TCP)
        case command(Command)
        case process(Process)
        case prometheus(Prometheus)

        public var name: String {
            switch self {
            case .http: return "http"
            case .tcp: return "tcp"
            case .command: return "command"
            case .process: return "process"
            case .prometheus: return "prometheus"
            }
        }
    }

    public struct HTTP: Codable, Equatable, Sendable {
        public var url: String
        public var method: String = "GET"
        public var headers: [String: String] = [:]
        public var body: String?
        public var timeout: Nanos = 1_000_000_000
        /// Accepted status codes as inclusive ranges; default 200...299.
        public var status: [ClosedRange<Int>] = [200...299]
        public var bodyContains: String?
        public var bodyRegex: String?
        public init(url: String) { self.url = url }
    }

    public struct TCP: Codable, Equatable, Sendable {
        public var host: String
        public var port: Int
        public var timeout: Nanos = 1_000_000_000
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    public struct Command: Codable, Equatable, Sendable {
        public var command: CommandSpec
        public var exitCode: Int32 = 0
        public var stdoutContains: String?
        public var timeout: Nanos = 5_000_000_000
        /// Record the number the command prints (replication lag, a queue's depth) with each
        /// sample; a sample whose output is not a number fails.
        public var value: Bool = false
        public init(command: CommandSpec) { self.command = command }
    }

    /// An instant PromQL query against a Prometheus server's HTTP API; each sample records the
    /// number it returns (a scalar, or the one series of a vector).
    public struct Prometheus: Codable, Equatable, Sendable {
        /// The server's base URL (`http://prometheus:9090`).
        public var url: String
        public var query: String
        public var timeout: Nanos = 1_000_000_000
        public init(url: String, query: String) {
            self.url = url
            self.query = query
        }
    }

    public struct Process: Codable, Equatable, Sendable {
        public var host: String = "local"
        public var selector: ProcessSelector
        /// At least this many matching processes must be present.
        public var min: Int = 1
        public init(selector: ProcessSelector) { self.selector = selector }
    }
}
