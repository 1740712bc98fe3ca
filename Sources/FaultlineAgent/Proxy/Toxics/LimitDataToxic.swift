/// `limit_data`: once `bytes` have gone through, the connection is closed.
struct LimitDataToxic: Toxic {
    static let type = "limit_data"
    static let defaults: ToxicAttributes = ["bytes": 0]
    let attributes: ToxicAttributes

    init(_ a: ToxicAttributes) throws(ToxicError) { attributes = try Self.read(a) }

    func instance(seed: UInt64) -> any ToxicInstance { Instance(limit: Int(attributes["bytes"]!)) }

    final class Instance: ToxicInstance {
        let limit: Int
        var sent = 0
        var closed = false
        init(limit: Int) { self.limit = limit }

        func pass(_ e: StreamEvent, now: Int64) -> [StreamEvent] {
            guard case .data(let bytes) = e.kind else { return closed ? [] : [e] }
            if closed { return [] }
            let room = limit - sent
            if bytes.count < room {
                sent += bytes.count
                return [e]
            }
            closed = true
            sent = limit
            var out: [StreamEvent] = []
            if room > 0 { out.append(.data(Array(bytes.prefix(room)), e.due)) }
            out.append(StreamEvent(kind: .close, due: e.due))
            out.append(StreamEvent(kind: .closeLink, due: e.due))
            return out
        }
    }
}
