/// `bandwidth`: at most `rate` KB/s (1 KB = 1,000 bytes, as Toxiproxy counts), sent in pieces of
/// 10 ms each so the pace is even.
struct BandwidthToxic: Toxic {
    static let type = "bandwidth"
    static let defaults: ToxicAttributes = ["rate": 0]
    let attributes: ToxicAttributes

    init(_ a: ToxicAttributes) throws(ToxicError) {
        attributes = try Self.read(a)
        guard attributes["rate"]! > 0 else { throw ToxicError("toxic bandwidth needs a 'rate' in KB/s above 0") }
    }

    func instance(seed: UInt64) -> any ToxicInstance { Instance(bytesPerSecond: attributes["rate"]! * 1_000) }

    final class Instance: ToxicInstance {
        let bytesPerSecond: Int64
        var order = Monotone()

        init(bytesPerSecond: Int64) { self.bytesPerSecond = bytesPerSecond }

        func pass(_ e: StreamEvent, now: Int64) -> [StreamEvent] {
            guard case .data(let bytes) = e.kind else { return [StreamEvent(kind: e.kind, due: order.at(e.due), origin: e.origin)] }
            let piece = max(1, Int(bytesPerSecond / 100))
            var out: [StreamEvent] = []
            var at = 0
            // The link is busy until the previous piece has gone: each piece leaves when it has.
            var t = max(order.last, e.due)
            while at < bytes.count {
                let n = min(piece, bytes.count - at)
                t += Int64(n) * 1_000_000_000 / bytesPerSecond
                out.append(.data(Array(bytes[at..<(at + n)]), order.at(t)))
                at += n
            }
            return out
        }
    }
}
