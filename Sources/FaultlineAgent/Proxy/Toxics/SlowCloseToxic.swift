/// `slow_close`: the connection's close (the half-close that follows the data, or a close of the
/// whole link) waits `delay` ms.
struct SlowCloseToxic: Toxic {
    static let type = "slow_close"
    static let defaults: ToxicAttributes = ["delay": 0]
    let attributes: ToxicAttributes

    init(_ a: ToxicAttributes) throws(ToxicError) { attributes = try Self.read(a) }

    func instance(seed: UInt64) -> any ToxicInstance { Instance(delay: attributes["delay"]! * 1_000_000) }

    final class Instance: ToxicInstance {
        let delay: Int64
        init(delay: Int64) { self.delay = delay }

        func pass(_ e: StreamEvent, now: Int64) -> [StreamEvent] {
            switch e.kind {
            case .close, .closeLink:
                var out = e
                out.due += delay
                return [out]
            default:
                return [e]
            }
        }
    }
}
