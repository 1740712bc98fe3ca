/// `reset_peer`: after `timeout` ms (0: at once) both peers get a TCP reset, as a crashed or
/// firewalled server gives ("connection reset by peer").
struct ResetPeerToxic: Toxic {
    static let type = "reset_peer"
    static let defaults: ToxicAttributes = ["timeout": 0]
    let attributes: ToxicAttributes

    init(_ a: ToxicAttributes) throws(ToxicError) { attributes = try Self.read(a) }

    func instance(seed: UInt64) -> any ToxicInstance { Instance(timeout: attributes["timeout"]! * 1_000_000) }

    final class Instance: ToxicInstance {
        let timeout: Int64
        init(timeout: Int64) { self.timeout = timeout }

        func begin(now: Int64) -> [StreamEvent] { [StreamEvent(kind: .reset, due: now + timeout, origin: ResetPeerToxic.type)] }
        func pass(_ e: StreamEvent, now: Int64) -> [StreamEvent] { [e] }
    }
}
