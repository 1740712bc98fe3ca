import FaultlineEssentials

/// `slicer`: data cut into pieces of `average_size` bytes ± `size_variation`, `delay` µs apart —
/// what a reader that assumes one read is one message gets wrong.
struct SlicerToxic: Toxic {
    static let type = "slicer"
    static let defaults: ToxicAttributes = ["average_size": 0, "size_variation": 0, "delay": 0]
    let attributes: ToxicAttributes

    init(_ a: ToxicAttributes) throws(ToxicError) {
        attributes = try Self.read(a)
        guard attributes["average_size"]! > 0 else { throw ToxicError("toxic slicer needs an 'average_size' in bytes above 0") }
        guard attributes["size_variation"]! < attributes["average_size"]! else {
            throw ToxicError("toxic slicer: size_variation must be below average_size")
        }
    }

    func instance(seed: UInt64) -> any ToxicInstance {
        Instance(
            average: Int(attributes["average_size"]!), variation: Int(attributes["size_variation"]!), delay: attributes["delay"]! * 1_000,
            seed: seed)
    }

    final class Instance: ToxicInstance {
        let average: Int
        let variation: Int
        let delay: Int64
        var random: SplitMix
        var order = Monotone()

        init(average: Int, variation: Int, delay: Int64, seed: UInt64) {
            self.average = average
            self.variation = variation
            self.delay = delay
            random = SplitMix(seed)
        }

        func pass(_ e: StreamEvent, now: Int64) -> [StreamEvent] {
            guard case .data(let bytes) = e.kind else { return [StreamEvent(kind: e.kind, due: order.at(e.due), origin: e.origin)] }
            var out: [StreamEvent] = []
            var at = 0
            var t = e.due
            while at < bytes.count {
                let spread = variation > 0 ? Int(random.next() % UInt64(2 * variation + 1)) - variation : 0
                let n = min(bytes.count - at, max(1, average + spread))
                out.append(.data(Array(bytes[at..<(at + n)]), order.at(t)))
                at += n
                t += delay
            }
            return out
        }
    }
}
