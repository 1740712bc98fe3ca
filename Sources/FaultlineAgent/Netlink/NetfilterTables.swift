import Glibc

/// Lists nftables tables with one netlink dump (NFNL_SUBSYS_NFTABLES, NFT_MSG_GETTABLE), as
/// `FAMILY NAME` strings like `nft list tables` prints them — without starting `nft`.
enum NetfilterTables {
    static let families: [UInt8: String] = [1: "inet", 2: "ip", 3: "arp", 5: "netdev", 7: "bridge", 10: "ip6"]

    /// The tables of the current network namespace; nil when netlink refuses.
    static func list() -> Set<String>? {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 12)  // NETLINK_NETFILTER
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // nlmsghdr (len, type = NFTABLES << 8 | GETTABLE, flags = REQUEST | DUMP, seq, pid) + nfgenmsg
        var request = [UInt8](repeating: 0, count: 20)
        put32(&request, 0, 20)
        put16(&request, 4, 10 << 8 | 1)
        put16(&request, 6, 0x301)
        put32(&request, 8, 1)
        var address = NetlinkAddress(family: sa_family_t(AF_NETLINK))
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, request, request.count, 0, $0, socklen_t(MemoryLayout<NetlinkAddress>.size))
            }
        }
        guard sent == request.count else { return nil }
        var tables = Set<String>()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return nil }
            var offset = 0
            while offset + 16 <= n {
                let length = Int(get32(buffer, offset))
                let type = get16(buffer, offset + 4)
                guard length >= 16, offset + length <= n else { return nil }
                if type == 3 { return tables }  // NLMSG_DONE
                if type == 2 { return get32(buffer, offset + 16) == 0 ? tables : nil }  // NLMSG_ERROR
                if let t = table(buffer, offset, length) { tables.insert(t) }
                offset += (length + 3) & ~3
            }
        }
    }

    /// `FAMILY NAME` from one NFT_MSG_NEWTABLE message.
    static func table(_ b: [UInt8], _ start: Int, _ length: Int) -> String? {
        guard length >= 20, let family = families[b[start + 16]] else { return nil }
        var at = start + 20
        while at + 4 <= start + length {
            let len = Int(get16(b, at))
            let type = get16(b, at + 2) & 0x3fff
            guard len >= 4, at + len <= start + length else { return nil }
            if type == 1 {  // NFTA_TABLE_NAME, NUL-terminated
                let name = b[(at + 4)..<(at + len)].prefix { $0 != 0 }
                return "\(family) \(String(decoding: name, as: UTF8.self))"
            }
            at += (len + 3) & ~3
        }
        return nil
    }

    static func put16(_ b: inout [UInt8], _ i: Int, _ v: UInt16) {
        withUnsafeBytes(of: v.littleEndian) { for k in 0..<2 { b[i + k] = $0[k] } }
    }

    static func put32(_ b: inout [UInt8], _ i: Int, _ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { for k in 0..<4 { b[i + k] = $0[k] } }
    }

    static func get16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }

    static func get32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
}

/// `struct sockaddr_nl` (12 bytes), declared here: importing the kernel's netlink header into
/// this module hides Glibc's socket constants from the other files in optimised builds.
struct NetlinkAddress {
    var family: sa_family_t
    var pad: UInt16 = 0
    var pid: UInt32 = 0
    var groups: UInt32 = 0
}
