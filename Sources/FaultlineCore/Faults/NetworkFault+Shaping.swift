import Yams

/// What a network fault does to the packets it selects, in netem's terms (both engines
/// implement the same model): a delay with jitter drawn from a distribution and correlated with
/// the last one, random or Gilbert–Elliott loss, duplication, corruption, reordering, and a
/// token-bucket rate.
public struct Shaping: Codable, Equatable, Sendable {
    public enum Distribution: String, Codable, Sendable, CaseIterable {
        /// Jitter spread evenly over ±jitter (netem's default).
        case uniform
        /// Jitter with standard deviation `jitter`.
        case normal
        case pareto
        case paretonormal
    }

    public enum Loss: Codable, Equatable, Sendable {
        /// Each packet lost with probability `p`, correlated with the previous decision.
        case random(p: Double, correlation: Double)
        /// Gilbert–Elliott: a good and a bad state; `p` good→bad, `r` bad→good per packet,
        /// `1-h` the loss in the bad state, `1-k` in the good one.
        case gilbertElliott(p: Double, r: Double, h: Double, k: Double)
    }

    public struct Reorder: Codable, Equatable, Sendable {
        /// Share of packets sent at once, ahead of the delayed ones.
        public var p: Double
        public var correlation: Double

        public init(p: Double, correlation: Double = 0) {
            self.p = p
            self.correlation = correlation
        }
    }

    public struct Rate: Codable, Equatable, Sendable {
        public var bitsPerSecond: UInt64
        /// Bucket size in bytes.
        public var burst: UInt32

        public init(bitsPerSecond: UInt64, burst: UInt32) {
            self.bitsPerSecond = bitsPerSecond
            self.burst = burst
        }
    }

    public var delay: Nanos = 0
    public var jitter: Nanos = 0
    public var correlation: Double = 0
    public var distribution: Distribution = .uniform
    public var loss: Loss?
    public var duplicate: Double?
    public var corrupt: Double?
    public var reorder: Reorder?
    public var rate: Rate?

    public init() {}

    public var isEmpty: Bool { delay == 0 && loss == nil && duplicate == nil && corrupt == nil && reorder == nil && rate == nil }

    /// Why the queue engine cannot do this, or nil: a verdict passes or drops one packet, so it
    /// cannot make a second.
    public var unsupportedByQueue: String? {
        duplicate == nil ? nil : "cannot duplicate packets (an NFQUEUE verdict passes or drops one packet)"
    }

    /// Whether the queue engine's delay line is needed: for every effect but the rate (loss
    /// included: it drops after the packet has left the socket, and counts what it dropped).
    public var needsDelayLine: Bool { delay > 0 || corrupt != nil || reorder != nil || loss != nil }

    public var summary: String {
        var parts: [String] = []
        if delay > 0 {
            var d = "delay \(DurationText.format(delay))"
            if jitter > 0 { d += " ± \(DurationText.format(jitter)) \(distribution.rawValue)" }
            if correlation > 0 { d += " (correlation \(PercentText.format(correlation)))" }
            parts.append(d)
        }
        switch loss {
        case .random(let p, let c)?:
            parts.append("loss \(PercentText.format(p))" + (c > 0 ? " (correlation \(PercentText.format(c)))" : ""))
        case .gilbertElliott(let p, let r, let h, let k)?:
            parts.append(
                "loss gilbert-elliott p \(PercentText.format(p)) r \(PercentText.format(r)) h \(PercentText.format(h)) k \(PercentText.format(k))"
            )
        case nil: break
        }
        if let d = duplicate { parts.append("duplicate \(PercentText.format(d))") }
        if let c = corrupt { parts.append("corrupt \(PercentText.format(c))") }
        if let r = reorder { parts.append("reorder \(PercentText.format(r.p))") }
        if let r = rate { parts.append("rate \(BandwidthText.format(r.bitsPerSecond)) burst \(r.burst)B") }
        return parts.joined(separator: ", ")
    }

    static func read(_ f: Fields, reader r: NodeReader) -> Shaping? {
        var s = Shaping()
        var ok = true
        s.delay = r.duration(f, "delay", max: Bounds.minute) ?? 0
        s.jitter = r.duration(f, "jitter", max: Bounds.minute) ?? 0
        s.correlation = r.percent(f, "correlation") ?? 0
        if let d = r.string(f, "distribution") {
            if let v = Distribution(rawValue: d) {
                s.distribution = v
            } else {
                r.error(
                    f.values["distribution"],
                    "'\(f.child("distribution"))' must be one of uniform, normal, pareto, paretonormal, got \(shown: d)")
                ok = false
            }
        }
        if s.jitter > 0 || f.has("distribution") || f.has("correlation"), s.delay == 0, !f.has("delay") {
            r.error(f.node, "'\(f.path)' sets jitter, correlation or distribution, which need 'delay'")
            ok = false
        }
        if let node = f.values["loss"] {
            s.loss = loss(node, path: f.child("loss"), r)
            ok = ok && s.loss != nil
        }
        s.duplicate = r.percent(f, "duplicate")
        s.corrupt = r.percent(f, "corrupt")
        if let node = f.values["reorder"] {
            s.reorder = reorder(node, path: f.child("reorder"), r)
            ok = ok && s.reorder != nil
            if s.reorder != nil, s.delay == 0 {
                r.error(node, "'\(f.child("reorder"))' needs 'delay': reordered packets are the ones sent without it")
                ok = false
            }
        }
        if let node = f.values["rate"] {
            s.rate = rate(node, path: f.child("rate"), r)
            ok = ok && s.rate != nil
        }
        return ok ? s : nil
    }

    /// `20%`, `{percent: 20%, correlation: 25%}` or `{gilbert_elliott: {p: 1%, r: 10%, h: 0%, k: 100%}}`.
    static func loss(_ node: Node, path: String, _ r: NodeReader) -> Loss? {
        if case .scalar(let s) = node {
            guard let p = PercentText.parse(s.string) else {
                r.error(
                    node,
                    "'\(path)' must be a percentage from 0% to 100% like '20%', or a mapping with 'percent' or 'gilbert_elliott', got \(NodeReader.describe(node))"
                )
                return nil
            }
            return .random(p: p, correlation: 0)
        }
        guard let f = r.fields(node, path: path, allowed: ["percent", "correlation", "gilbert_elliott"]) else { return nil }
        if let g = f.values["gilbert_elliott"] {
            if f.has("percent") || f.has("correlation") {
                r.error(f.keys["gilbert_elliott"], "'\(path)' takes 'percent' (and 'correlation') or 'gilbert_elliott', not both")
                return nil
            }
            guard let gf = r.fields(g, path: f.child("gilbert_elliott"), allowed: ["p", "r", "h", "k"]) else { return nil }
            let p = r.percent(gf, "p", required: true)
            let rr = r.percent(gf, "r") ?? (p.map { 1 - $0 } ?? 0)
            let h = r.percent(gf, "h") ?? 0
            let k = r.percent(gf, "k") ?? 1
            guard let p else { return nil }
            return .gilbertElliott(p: p, r: rr, h: h, k: k)
        }
        let p = r.percent(f, "percent", required: true)
        let c = r.percent(f, "correlation") ?? 0
        return p.map { .random(p: $0, correlation: c) }
    }

    /// `25%` or `{percent: 25%, correlation: 50%}`.
    static func reorder(_ node: Node, path: String, _ r: NodeReader) -> Reorder? {
        if case .scalar(let s) = node {
            guard let p = PercentText.parse(s.string) else {
                r.error(
                    node,
                    "'\(path)' must be a percentage from 0% to 100% like '25%', or {percent, correlation}, got \(NodeReader.describe(node))"
                )
                return nil
            }
            return Reorder(p: p, correlation: 0)
        }
        guard let f = r.fields(node, path: path, allowed: ["percent", "correlation"]) else { return nil }
        let p = r.percent(f, "percent", required: true)
        return p.map { Reorder(p: $0, correlation: r.percent(f, "correlation") ?? 0) }
    }

    /// `10mbit` or `{bandwidth: 10mbit, burst: 32kb}`; the burst defaults to 10 ms of traffic
    /// (at least 3 kB, so one full-size packet always fits).
    static func rate(_ node: Node, path: String, _ r: NodeReader) -> Rate? {
        let bandwidthNode: Node?
        var burst: UInt32?
        if case .scalar = node {
            bandwidthNode = node
        } else {
            guard let f = r.fields(node, path: path, allowed: ["bandwidth", "burst"]) else { return nil }
            bandwidthNode = f.value("bandwidth", required: true, reader: r)
            if let b = r.string(f, "burst") {
                guard let v = BandwidthText.bytes(b), (1_500...(64 << 20)).contains(v) else {
                    r.error(f.values["burst"], "'\(f.child("burst"))' must be a size from 1500b to 64mb like '32kb', got \(shown: b)")
                    return nil
                }
                burst = UInt32(v)
            }
        }
        guard let bandwidthNode else { return nil }
        guard case .scalar(let s) = bandwidthNode, let bps = BandwidthText.bits(s.string), (8_000...100_000_000_000).contains(bps) else {
            r.error(
                bandwidthNode,
                "'\(path)' must be a bandwidth from 8kbit to 100gbit like '10mbit', got \(NodeReader.describe(bandwidthNode))")
            return nil
        }
        return Rate(bitsPerSecond: bps, burst: burst ?? UInt32(max(3_000, min(64 << 20, bps / 8 / 100))))
    }
}

/// Bandwidths and sizes as tc writes them: `10mbit`, `1.5gbit`, `100kbit`, `12mbps` (bytes),
/// and `32kb`, `1mb`, `1500b`, `64k`.
public enum BandwidthText {
    /// Bits per second; nil when it is not a bandwidth.
    public static func bits(_ text: String) -> UInt64? {
        let units: [(String, Double)] = [
            ("tbit", 1e12), ("gbit", 1e9), ("mbit", 1e6), ("kbit", 1e3), ("bit", 1), ("tbps", 8e12), ("gbps", 8e9), ("mbps", 8e6),
            ("kbps", 8e3), ("bps", 8),
        ]
        return scaled(text.lowercased(), units)
    }

    /// Bytes; nil when it is not a size.
    public static func bytes(_ text: String) -> UInt64? {
        let units: [(String, Double)] = [
            ("gb", 1_073_741_824), ("mb", 1_048_576), ("kb", 1_024), ("g", 1_073_741_824), ("m", 1_048_576), ("k", 1_024), ("b", 1),
        ]
        return scaled(text.lowercased(), units)
    }

    static func scaled(_ s: String, _ units: [(String, Double)]) -> UInt64? {
        for (suffix, factor) in units where s.hasSuffix(suffix) {
            let number = s.dropLast(suffix.count)
            guard !number.isEmpty, number.allSatisfy({ ($0 >= "0" && $0 <= "9") || $0 == "." }), let v = Double(number), v > 0 else {
                return nil
            }
            let total = v * factor
            return total.isFinite && total < 1e19 ? UInt64(total.rounded()) : nil
        }
        return nil
    }

    /// `10mbit`, `1.5gbit`.
    public static func format(_ bps: UInt64) -> String {
        for (suffix, factor) in [("gbit", 1e9), ("mbit", 1e6), ("kbit", 1e3)] where Double(bps) >= factor {
            return DurationText.trim(Double(bps) / factor) + suffix
        }
        return "\(bps)bit"
    }
}
