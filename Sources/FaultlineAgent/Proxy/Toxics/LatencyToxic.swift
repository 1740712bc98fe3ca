import FaultlineEssentials

/// `latency`: every chunk waits `latency` ms, ± up to `jitter` ms (uniform), in order.
struct LatencyToxic: Toxic {
    static let type = "latency"
    static let defaults: ToxicAttributes = ["latency": 0, "jitter": 0]
    let attributes: ToxicAttributes

    init(_ a: ToxicAttributes) throws(ToxicError) {
        attributes = try Self.read(a)
        guard attributes["jitter"]! <= attributes["latency"]! || attributes["latency"]! == 0 else {
            throw ToxicError("toxic latency: jitter (\(attributes["jitter"]!) ms) must not exceed latency (\(attributes["latency"]!) ms)")
        }
    }

    func instance(seed: UInt64) -> any ToxicInstance {
        Instance(latency: attributes["latency"]! * 1_000_000, jitter: attributes["jitter"]! * 1_000_000, seed: seed)
    }

    final class Instance: ToxicInstance {
        let latency: Int64
        let jitter: Int64
        var random: SplitMix
        var order = Monotone()

        init(latency: Int64, jitter: Int64, seed: UInt64) {
            self.latency = latency
            self.jitter = jitter
            random = SplitMix(seed)
        }

        func pass(_ e: StreamEvent, now: Int64) -> [StreamEvent] {
            guard e.isData else { return [StreamEvent(kind: e.kind, due: order.at(e.due), origin: e.origin)] }
            var d = latency
            if jitter > 0 { d += Int64((random.unit() * 2 - 1) * Double(jitter)) }
            var out = e
            out.due = order.at(e.due + max(0, d))
            return [out]
        }
    }
}
