/// One toxic of a `proxy` fault, in Toxiproxy's terms (its type, direction, share of
/// connections and integer attributes in Toxiproxy's units), read from faultline's units.
public struct ProxyToxic: Codable, Equatable, Sendable {
    public var type: String
    /// `upstream` (client to server) or `downstream` (server to client).
    public var stream: String
    public var toxicity: Double
    public var attributes: [String: Int64]

    public init(type: String, stream: String = "downstream", toxicity: Double = 1, attributes: [String: Int64] = [:]) {
        self.type = type
        self.stream = stream
        self.toxicity = toxicity
        self.attributes = attributes
    }

    /// How an attribute is written in an experiment, and the Toxiproxy unit it becomes.
    public enum Unit: Sendable, Equatable {
        /// A duration, sent as whole milliseconds.
        case milliseconds
        /// A duration, sent as whole microseconds.
        case microseconds
        /// A bandwidth like `800kbit` or `1mbps`, sent as KB/s (1,000 bytes).
        case kilobytesPerSecond
        /// A size like `32kb`, or a plain number of bytes.
        case bytes

        public var name: String {
            switch self {
            case .milliseconds: return "milliseconds"
            case .microseconds: return "microseconds"
            case .kilobytesPerSecond: return "KB/s"
            case .bytes: return "bytes"
            }
        }
    }

    /// Each toxic type's attributes. The proxy's toxics (FaultlineLinux) take the same names;
    /// a unit test holds the two lists together.
    public static let schema: [String: [(name: String, unit: Unit)]] = [
        "latency": [("latency", .milliseconds), ("jitter", .milliseconds)],  // check-kinds: field
        "bandwidth": [("rate", .kilobytesPerSecond)],
        "slow_close": [("delay", .milliseconds)],
        "timeout": [("timeout", .milliseconds)],
        "reset_peer": [("timeout", .milliseconds)],
        "slicer": [("average_size", .bytes), ("size_variation", .bytes), ("delay", .microseconds)],
        "limit_data": [("bytes", .bytes)],
    ]

    /// The largest value of an attribute in each unit, the same for an experiment's toxics and
    /// for the proxy's API: an hour, 800 gbit/s, 1 TiB. Every product the proxy computes from
    /// them (nanoseconds, bytes per second) then fits in 64 bits.
    public static func maximum(_ unit: Unit) -> Int64 {
        switch unit {
        case .milliseconds: return 3_600_000
        case .microseconds: return 3_600_000_000
        case .kilobytesPerSecond: return 100_000_000
        case .bytes: return 1 << 40
        }
    }

    /// The unit of a type's attribute, or nil when the type has no such attribute.
    public static func unit(_ type: String, _ attribute: String) -> Unit? {
        schema[type]?.first { $0.name == attribute }?.unit
    }

    public var summary: String {
        let units = Dictionary(Self.schema[type] ?? [], uniquingKeysWith: { a, _ in a })
        let a = (Self.schema[type] ?? []).compactMap { name, _ in attributes[name].map { (name, $0) } }.map { name, v -> String in
            switch units[name] {
            case .milliseconds?: return "\(name) \(DurationText.format(v * 1_000_000))"
            case .microseconds?: return "\(name) \(DurationText.format(v * 1_000))"
            case .kilobytesPerSecond?: return "\(name) \(v) KB/s"
            default: return "\(name) \(v) bytes"
            }
        }.joined(separator: ", ")
        let share = toxicity < 1 ? " on \(PercentText.format(toxicity)) of connections" : ""
        return "\(type) \(stream)\(a.isEmpty ? "" : " (\(a))")\(share)"
    }

}

/// `proxy`: toxics on one of the experiment's `proxies` for the fault's window (latency,
/// bandwidth, slow_close, timeout, reset_peer, slicer, limit_data), or the proxy taken down.
/// Needs no root: the proxy is a process of faultline's own, in the path of whoever connects
/// to its `listen` address.
public struct ProxyFault: Codable, Equatable, Sendable {
    public static let key = "proxy"

    /// The proxy, by its name in `proxies`.
    public var proxy: String
    public var toxics: [ProxyToxic]
    /// Refuse new connections and close the open ones, instead of toxics.
    public var down: Bool

    public init(proxy: String, toxics: [ProxyToxic] = [], down: Bool = false) {
        self.proxy = proxy
        self.toxics = toxics
        self.down = down
    }

}
