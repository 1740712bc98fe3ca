import FaultlineEssentials
import Glibc

/// Probe packets that a network fault's rules match, for its mechanism's own counters to count —
/// without load on the peer's service: a bare TCP ACK (no connection: the peer's kernel answers
/// with a reset, the application never sees it), a one-byte UDP datagram, an ICMP echo request.
/// Sent from the faulted host toward the fault's first peer, on the filter's port (or 9).
struct ProbePackets {
    let peer: in_addr_t
    let port: UInt16
    let proto: PacketFilter.Proto
    let target: String

    init?(_ w: NetworkWork) {
        guard let subnet = w.peers.first else { return nil }
        let host = subnet.prefix == 32 ? subnet.network : IPv4Address(subnet.network.value + 1)
        peer = in_addr_t(host.value.bigEndian)
        port = UInt16(w.filter.port ?? 9)
        proto = w.filter.proto
        target = proto == .icmp ? host.description : "\(host):\(port)"
    }

    /// Sends `count` probes, 50 µs apart (a burst the peer's rate limits need not drop); how many
    /// the kernel took.
    func send(_ count: Int) -> Int {
        switch proto {
        case .udp: return udp(count)
        case .icmp: return icmp(count)
        case .tcp, .all: return tcpAcks(count)
        }
    }

    private var destination: sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = peer
        return a
    }

    private func sendAll(_ fd: Int32, _ count: Int, _ packet: (Int) -> [UInt8]) -> Int {
        var to = destination
        var sent = 0
        for i in 0..<count {
            let bytes = packet(i)
            let n = withUnsafePointer(to: &to) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.sendto(fd, bytes, bytes.count, 0, $0, 16) }
            }
            if n == bytes.count { sent += 1 }
            usleep(50)
        }
        return sent
    }

    private func udp(_ count: Int) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        return sendAll(fd, count) { _ in [0] }
    }

    private func icmp(_ count: Int) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_RAW.rawValue | SOCK_CLOEXEC.rawValue), Int32(IPPROTO_ICMP))
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        let ident = UInt16(truncatingIfNeeded: getpid())
        return sendAll(fd, count) { i in
            var p: [UInt8] = [8, 0, 0, 0, UInt8(ident >> 8), UInt8(ident & 0xFF), UInt8(i >> 8 & 0xFF), UInt8(i & 0xFF)]
            let sum = Self.checksum(p)
            p[2] = UInt8(sum >> 8)
            p[3] = UInt8(sum & 0xFF)
            return p
        }
    }

    /// TCP ACK segments from a port nothing uses: the kernel builds the IP header, the TCP
    /// checksum is over the source the route gives.
    private func tcpAcks(_ count: Int) -> Int {
        guard let source = sourceAddress() else { return 0 }
        let fd = socket(AF_INET, Int32(SOCK_RAW.rawValue | SOCK_CLOEXEC.rawValue), Int32(IPPROTO_TCP))
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        let sport = UInt16.random(in: 40_000...60_000)
        var random = SplitMix(UInt64(MonotonicClock.now()))
        return sendAll(fd, count) { _ in
            let seq = UInt32(truncatingIfNeeded: random.next())
            let ack = UInt32(truncatingIfNeeded: random.next())
            var h = [UInt8](repeating: 0, count: 20)
            Self.put16(&h, 0, sport)
            Self.put16(&h, 2, port)
            Self.put32(&h, 4, seq)
            Self.put32(&h, 8, ack)
            h[12] = 5 << 4  // data offset: 5 words
            h[13] = 0x10  // ACK
            Self.put16(&h, 14, 1_024)
            // Pseudo-header: source, destination, zero, protocol, TCP length.
            var pseudo: [UInt8] = []
            Self.append32(&pseudo, UInt32(bigEndian: source))
            Self.append32(&pseudo, UInt32(bigEndian: peer))
            pseudo += [0, UInt8(IPPROTO_TCP), 0, 20]
            Self.put16(&h, 16, Self.checksum(pseudo + h))
            return h
        }
    }

    /// The address the kernel sends from toward the peer (a UDP socket connected, then named).
    private func sourceAddress() -> in_addr_t? {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var to = destination
        let rc = withUnsafePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, 16) } }
        guard rc == 0 else { return nil }
        var me = sockaddr_in()
        var len = socklen_t(16)
        let named = withUnsafeMutablePointer(to: &me) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return named == 0 ? me.sin_addr.s_addr : nil
    }

    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    static func put16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) {
        b[at] = UInt8(v >> 8)
        b[at + 1] = UInt8(v & 0xFF)
    }

    static func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
        for k in 0..<4 { b[at + k] = UInt8(v >> (24 - 8 * k) & 0xFF) }
    }

    static func append32(_ b: inout [UInt8], _ v: UInt32) {
        for k in 0..<4 { b.append(UInt8(v >> (24 - 8 * k) & 0xFF)) }
    }
}
