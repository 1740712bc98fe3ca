import Yams

extension Shaping {
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
