import Yams

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
        "latency": [("latency", .milliseconds), ("jitter", .milliseconds)],
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

    static func read(_ node: Node, path: String, reader r: NodeReader) -> ProxyToxic? {
        guard case .mapping = node else {
            r.error(node, "'\(path)' must be a toxic like {type: latency, latency: 100ms}, got \(NodeReader.describe(node))")
            return nil
        }
        // The type first: it says which attribute keys the mapping may have.
        guard let typeNode = node["type"], case .scalar(let t) = typeNode else {
            r.error(node, "'\(path)' needs 'type' (valid: \(schema.keys.sorted().joined(separator: ", ")))")
            return nil
        }
        guard let attributes = schema[t.string] else {
            r.error(
                typeNode, "unknown toxic type \(shown: t.string) in '\(path).type' \(Suggest.hint(for: t.string, in: schema.keys.sorted()))"
            )
            return nil
        }
        guard let f = r.fields(node, path: path, allowed: ["type", "stream", "toxicity"] + attributes.map(\.name)) else { return nil }
        var toxic = ProxyToxic(type: t.string)
        var ok = true
        if let s = r.string(f, "stream") {
            if ["upstream", "downstream"].contains(s) {
                toxic.stream = s
            } else {
                r.error(
                    f.values["stream"],
                    "'\(path).stream' must be upstream (client to server) or downstream (server to client), got \(shown: s)")
                ok = false
            }
        }
        toxic.toxicity = r.percent(f, "toxicity") ?? 1
        for (name, unit) in attributes where f.has(name) {
            guard let v = value(f, name, unit, r) else {
                ok = false
                continue
            }
            toxic.attributes[name] = v
        }
        if !ok { return nil }
        // What the proxy would refuse, said here with the file's position.
        let a = toxic.attributes
        switch t.string {
        case "bandwidth" where (a["rate"] ?? 0) <= 0:
            r.error(node, "'\(path)' (bandwidth) needs 'rate', at least 1 KB/s, like '800kbit'")
            return nil
        case "slicer" where (a["average_size"] ?? 0) <= 0:
            r.error(node, "'\(path)' (slicer) needs 'average_size' above 0, like '16b'")
            return nil
        case "slicer" where (a["size_variation"] ?? 0) >= (a["average_size"] ?? 0):
            r.error(f.values["size_variation"], "'\(path).size_variation' must be below average_size")
            return nil
        case "latency" where (a["jitter"] ?? 0) > (a["latency"] ?? 0):
            r.error(f.values["jitter"], "'\(path).jitter' must not exceed latency")
            return nil
        default: break
        }
        return toxic
    }

    static func value(_ f: Fields, _ name: String, _ unit: Unit, _ r: NodeReader) -> Int64? {
        let path = f.child(name)
        switch unit {
        case .milliseconds, .microseconds:
            guard let d = r.duration(f, name, max: Bounds.hour) else { return nil }
            let per: Nanos = unit == .milliseconds ? 1_000_000 : 1_000
            guard d % per == 0 else {
                r.error(
                    f.values[name],
                    "'\(path)' must be whole \(unit == .milliseconds ? "milliseconds" : "microseconds"), got '\(DurationText.format(d))'")
                return nil
            }
            return d / per
        case .kilobytesPerSecond:
            guard case .scalar(let s)? = f.values[name], let bits = BandwidthText.bits(s.string), bits >= 8_000, bits <= 800_000_000_000
            else {
                r.error(
                    f.values[name],
                    "'\(path)' must be a bandwidth from 8kbit (1 KB/s) to 800gbit like '800kbit' or '1mbps', got \(NodeReader.describe(f.values[name]!))"
                )
                return nil
            }
            return Int64(bits / 8_000)
        case .bytes:
            guard case .scalar(let s)? = f.values[name] else { return nil }
            if let n = Int64(s.string), n >= 0, n <= 1 << 40 { return n }
            guard let b = BandwidthText.bytes(s.string), b <= 1 << 40 else {
                r.error(
                    f.values[name], "'\(path)' must be a size like '32kb' or a number of bytes, got \(NodeReader.describe(f.values[name]!))"
                )
                return nil
            }
            return Int64(b)
        }
    }
}

/// `proxy`: toxics on one of the experiment's `proxies` for the fault's window (latency,
/// bandwidth, slow_close, timeout, reset_peer, slicer, limit_data), or the proxy taken down.
/// Needs no root: the proxy is a process of faultline's own, in the path of whoever connects
/// to its `listen` address.
public struct ProxyFault: FaultKindReader, Equatable {
    public static let key = "proxy"
    public static let summary =
        "toxics (latency, bandwidth, slow_close, timeout, reset_peer, slicer, limit_data) on one of the experiment's proxies, or the proxy down; no root needed"
    public static let fields = ["name", "toxics", "down"]
    public static let holding = FaultHolding.held(durationRequired: false)

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

    public var target: String { down ? "proxy \(proxy): down" : "proxy \(proxy): \(toxics.map(\.summary).joined(separator: "; "))" }
    public var exclusion: FaultExclusion? { down ? FaultExclusion(key: "proxy down \(proxy)", what: "proxy '\(proxy)' down") : nil }
    public func hosts(in hosts: HostSet) -> [String] { [hosts.proxies[proxy] ?? "local"] }

    public func describe(_ step: FaultStep, _ hosts: HostSet) -> String { "\(target) [\(step.name)]" }
    public func describeRevert(_ step: FaultStep) -> String {
        down ? "bring proxy '\(proxy)' up again" : "remove the toxics '\(step.name)' added to proxy '\(proxy)'"
    }

    public func validate(_ step: FaultStep, _ v: FaultValidation) {
        let names = v.experiment.proxies.map(\.name)
        if !names.contains(proxy) {
            v.error(
                at: "\(v.path).\(Self.key).name",
                "'\(v.path).\(Self.key).name' names proxy \(shown: proxy), which 'proxies' does not declare \(Suggest.hint(for: proxy, in: names))"
            )
        }
    }

    static func read(_ node: Node, path: String, reader r: NodeReader) -> ProxyFault? {
        guard let f = r.fields(node, path: path, allowed: fields) else { return nil }
        let name = r.string(f, "name", required: true)
        let down = r.bool(f, "down") ?? false
        let toxics = r.each(f, "toxics", what: "toxics") { n, p, _ in ProxyToxic.read(n, path: p, reader: r) }
        guard let name else { return nil }
        if down, f.has("toxics") {
            r.error(f.keys["down"], "'\(path)' takes 'toxics' or 'down: true', not both")
            return nil
        }
        if !down, toxics.isEmpty {
            if !f.has("toxics") { r.error(node, "'\(path)' needs 'toxics' (a list) or 'down: true'") }
            return nil
        }
        return ProxyFault(proxy: name, toxics: toxics, down: down)
    }
}
