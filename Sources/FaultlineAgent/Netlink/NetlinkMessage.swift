/// Building and reading netlink messages byte by byte: a header, a family header, then
/// attributes (type-length-value, 4-byte aligned, nestable). Pure: the bytes a request would
/// send can be checked in a unit test without a socket.
package struct NetlinkMessage {
    private(set) var bytes: [UInt8]
    /// Offsets of the nests still open (their lengths are written when they close).
    private var open: [Int] = []

    static let request: UInt16 = 0x1
    static let ack: UInt16 = 0x4
    static let create: UInt16 = 0x400
    static let exclusive: UInt16 = 0x200
    static let append: UInt16 = 0x800

    /// A netfilter message: `nlmsghdr` (type = subsystem << 8 | command) and `nfgenmsg`
    /// (family, version 0, resource id in network order).
    init(netfilter subsystem: UInt8, _ command: UInt8, flags: UInt16, sequence: UInt32, family: UInt8, resource: UInt16 = 0) {
        self.init(type: UInt16(subsystem) << 8 | UInt16(command), flags: flags, sequence: sequence)
        bytes += [family, 0, UInt8(resource >> 8), UInt8(resource & 0xff)]
        finish()
    }

    /// A bare `nlmsghdr`; the caller appends the family header.
    init(type: UInt16, flags: UInt16, sequence: UInt32) {
        bytes = []
        bytes += le32(16) + le16(type) + le16(flags) + le32(sequence) + le32(0)
    }

    mutating func raw(_ b: [UInt8]) {
        bytes += b
        finish()
    }

    mutating func attribute(_ type: UInt16, _ value: [UInt8]) {
        bytes += le16(UInt16(4 + value.count)) + le16(type) + value
        pad()
        finish()
    }

    mutating func attribute(_ type: UInt16, string: String) { attribute(type, Array(string.utf8) + [0]) }
    /// nf_tables and nfnetlink_queue carry integers in network byte order.
    mutating func attribute(_ type: UInt16, be32 v: UInt32) { attribute(type, Self.be32(v)) }
    mutating func attribute(_ type: UInt16, be16 v: UInt16) { attribute(type, [UInt8(v >> 8), UInt8(v & 0xff)]) }
    mutating func attribute(_ type: UInt16, u8 v: UInt8) { attribute(type, [v]) }

    /// Opens a nested attribute (`NLA_F_NESTED`); `close()` ends it.
    mutating func nest(_ type: UInt16) {
        open.append(bytes.count)
        bytes += le16(0) + le16(type | 0x8000)
    }

    mutating func close() {
        guard let start = open.popLast() else { return }
        let length = UInt16(bytes.count - start)
        bytes[start] = UInt8(length & 0xff)
        bytes[start + 1] = UInt8(length >> 8)
        finish()
    }

    private mutating func pad() { while bytes.count % 4 != 0 { bytes.append(0) } }

    /// Writes the total length into the header.
    private mutating func finish() {
        let n = UInt32(bytes.count)
        for k in 0..<4 { bytes[k] = UInt8((n >> (8 * UInt32(k))) & 0xff) }
    }

    func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
    func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xff) } }
    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }
}

/// Reading what the kernel sends: messages in a buffer, and the attributes of one.
package enum NetlinkReader {
    struct Message {
        var type: UInt16
        var flags: UInt16
        var sequence: UInt32
        /// The bytes after `nlmsghdr`.
        var payload: ArraySlice<UInt8>
    }

    /// The messages in one datagram.
    static func messages(_ b: ArraySlice<UInt8>) -> [Message] {
        var out: [Message] = []
        var at = b.startIndex
        while at + 16 <= b.endIndex {
            let length = Int(le32(b, at))
            guard length >= 16, at + length <= b.endIndex else { break }
            out.append(
                Message(type: le16(b, at + 4), flags: le16(b, at + 6), sequence: le32(b, at + 8), payload: b[(at + 16)..<(at + length)]))
            at += (length + 3) & ~3
        }
        return out
    }

    /// Attributes starting at `from` (after the family header): type (flags stripped) → value.
    static func attributes(_ b: ArraySlice<UInt8>, from: Int) -> [UInt16: ArraySlice<UInt8>] {
        var out: [UInt16: ArraySlice<UInt8>] = [:]
        var at = from
        while at + 4 <= b.endIndex {
            let length = Int(le16(b, at))
            guard length >= 4, at + length <= b.endIndex else { break }
            out[le16(b, at + 2) & 0x3fff] = b[(at + 4)..<(at + length)]
            at += (length + 3) & ~3
        }
        return out
    }

    /// The error code of an `NLMSG_ERROR` message (0 is an acknowledgement).
    static func error(_ m: Message) -> Int32? {
        guard m.type == 2, m.payload.count >= 4 else { return nil }
        return Int32(bitPattern: le32(m.payload, m.payload.startIndex))
    }

    package static func le16(_ b: ArraySlice<UInt8>, _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
    package static func le32(_ b: ArraySlice<UInt8>, _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
    package static func be32(_ b: ArraySlice<UInt8>, _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }
    static func be16(_ b: ArraySlice<UInt8>, _ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }
}
