import Yams

extension ProxyToxic {
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
        case "latency" where (a["jitter"] ?? 0) > (a["latency"] ?? 0):  // check-kinds: field
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

extension ProxyFault: FaultKindReader {
    public static let summary =
        "toxics (latency, bandwidth, slow_close, timeout, reset_peer, slicer, limit_data) on one of the experiment's proxies, or the proxy down; no root needed"

    public static let fields = ["name", "toxics", "down"]

    public static let holding = FaultHolding.held(durationRequired: false)

    public var target: String { down ? "proxy \(proxy): down" : "proxy \(proxy): \(toxics.map(\.summary).joined(separator: "; "))" }

    public var exclusion: FaultExclusion? { down ? FaultExclusion(key: "proxy down \(proxy)", what: "proxy '\(proxy)' down") : nil }

    public func hosts(in hosts: HostSet) -> [String] { [hosts.proxies[proxy] ?? "local"] }

    /// A proxy's toxics slow or cut one path to a service, through the runner's own proxy: no
    /// host of the system is taken.
    public func impact(in hosts: HostSet) -> FaultImpact { .hosts([]) }

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
