/// An IPv4 address as four octets.
public struct IPv4Address: Codable, Hashable, Sendable, CustomStringConvertible {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    /// Parses dotted-quad text; `nil` otherwise.
    public init?(_ text: String) {
        // Byte by byte: inventories hand over tens of thousands of these, and a generic
        // integer parse per octet cost a debug `validate` most of its second.
        var v: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        for b in text.utf8 {
            if b == UInt8(ascii: ".") {
                guard digits > 0, dots < 3 else { return nil }
                v = v << 8 | octet
                octet = 0
                digits = 0
                dots += 1
            } else if b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") {
                digits += 1
                octet = octet * 10 + UInt32(b - UInt8(ascii: "0"))
                guard digits <= 3, octet <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        value = v << 8 | octet
    }

    public var description: String { "\(value >> 24).\(value >> 16 & 255).\(value >> 8 & 255).\(value & 255)" }
}

/// An IPv4 network such as `198.18.1.0/24`.
public struct IPv4Subnet: Codable, Hashable, Sendable, CustomStringConvertible {
    public var network: IPv4Address
    public var prefix: Int

    /// Parses `A.B.C.D/N`; the address must be the network's first address.
    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let a = IPv4Address(String(parts[0])), let p = Int(parts[1]), (0...32).contains(p) else { return nil }
        let mask: UInt32 = p == 0 ? 0 : ~UInt32(0) << (32 - p)
        guard a.value & mask == a.value else { return nil }
        network = a
        prefix = p
    }

    public var mask: UInt32 { prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix) }

    public func contains(_ a: IPv4Address) -> Bool { a.value & mask == network.value }

    /// Whether every address of `self` lies in `other`.
    public func isInside(_ other: IPv4Subnet) -> Bool { prefix >= other.prefix && other.contains(network) }

    /// Usable for a host: not the network or broadcast address.
    public func isHostAddress(_ a: IPv4Address) -> Bool {
        contains(a) && a != network && a.value != network.value | ~mask
    }

    public var description: String { "\(network)/\(prefix)" }

    /// 198.18.0.0/15 (RFC 2544): the only range labs may use.
    public static let benchmarking = IPv4Subnet("198.18.0.0/15")!
}
