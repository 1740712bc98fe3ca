/// `timeout`: no data gets through; after `timeout` ms the connection is closed (0: it stays
/// open, silent, until the toxic is removed).
struct TimeoutToxic: Toxic {
    static let type = "timeout"
    static let defaults: ToxicAttributes = ["timeout": 0]
    let attributes: ToxicAttributes

    init(_ a: ToxicAttributes) throws(ToxicError) { attributes = try Self.read(a) }

    func instance(seed: UInt64) -> any ToxicInstance { Instance(timeout: attributes["timeout"]! * 1_000_000) }

    final class Instance: ToxicInstance {
        let timeout: Int64
        init(timeout: Int64) { self.timeout = timeout }

        func begin(now: Int64) -> [StreamEvent] {
            timeout > 0 ? [StreamEvent(kind: .closeLink, due: now + timeout, origin: TimeoutToxic.type)] : []
        }

        func pass(_ e: StreamEvent, now: Int64) -> [StreamEvent] { e.isData ? [] : [e] }
    }
}
