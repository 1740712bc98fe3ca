import FaultlineEssentials
import FoundationEssentials
import Glibc

/// Listening and upstream addresses: parsed, bound, resolved, and checked for loops — a proxy
/// whose upstream is its own listener (or another proxy's that leads back to it) would accept
/// its own connections until every descriptor is gone.
extension ProxyServer {
    /// `host:port` to listen on: an IPv4 address or `localhost` (an empty host: every address).
    static func parseListen(_ text: String) throws(APIError) -> sockaddr_in {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            throw APIError(400, "listen must be host:port, got \(shown: text)")
        }
        var host = String(text[..<colon])
        if host == "localhost" { host = "127.0.0.1" }
        if host.isEmpty { host = "0.0.0.0" }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &a.sin_addr) == 1 else {
            throw APIError(400, "listen host must be an IPv4 address, got \(shown: host)")
        }
        return a
    }

    /// Binds and listens on `text`; the descriptor and the address as bound.
    static func listen(_ text: String) throws(APIError) -> (Int32, sockaddr_in) {
        var a = try parseListen(text)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw APIError(500, "socket: \(errnoText())") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, 4)
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, 16) } }
        guard rc == 0, Glibc.listen(fd, 1024) == 0 else {
            let e = errnoText()
            close(fd)
            throw APIError(409, "listen tcp \(ShownText.escaped(text)): \(e)")
        }
        var len = socklen_t(16)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return (fd, a)
    }

    static func text(_ a: sockaddr_in) -> String {
        var addr = a.sin_addr
        var host = [CChar](repeating: 0, count: 16)
        inet_ntop(AF_INET, &addr, &host, 16)
        return "\(String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)):\(UInt16(bigEndian: a.sin_port))"
    }

    /// `host:port` of the upstream, resolved now (IPv4).
    static func resolve(_ text: String) throws(APIError) -> sockaddr_in {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0 else {
            throw APIError(400, "upstream must be host:port, got \(shown: text)")
        }
        let host = String(text[..<colon])
        guard NetworkText.isHost(Substring(host)) else {
            throw APIError(400, "upstream host must be a name or an IPv4 address, got \(shown: host)")
        }
        guard let r = TCPConnect.resolve(host, Int(port)), r.0.ss_family == sa_family_t(AF_INET) else {
            throw APIError(400, "upstream host \(shown: host) does not resolve to an IPv4 address")
        }
        var storage = r.0
        return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee } }
    }

    /// Whether a connection to `upstream` reaches a socket listening on `listener`: the same
    /// port, and the same address, or a wildcard on one side and an address of this host on
    /// the other.
    static func reaches(_ upstream: sockaddr_in, _ listener: sockaddr_in) -> Bool {
        guard upstream.sin_port == listener.sin_port, listener.sin_port != 0 else { return false }
        let u = upstream.sin_addr.s_addr
        let l = listener.sin_addr.s_addr
        if u == l { return true }
        if l == 0 { return u == 0 || isLocal(u) }
        if u == 0 { return isLocal(l) }
        return false
    }

    /// An address of this host: loopback (127/8) or one of its interfaces' (getifaddrs).
    static func isLocal(_ address: in_addr_t) -> Bool {
        if UInt32(bigEndian: address) >> 24 == 127 { return true }
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return false }
        defer { freeifaddrs(list) }
        var cur: UnsafeMutablePointer<ifaddrs>? = first
        while let i = cur {
            if let a = i.pointee.ifa_addr, a.pointee.sa_family == sa_family_t(AF_INET) {
                let v4 = a.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                if v4 == address { return true }
            }
            cur = i.pointee.ifa_next
        }
        return false
    }

    /// The chain of proxies a connection to `name` would pass through if it listened on
    /// `listen` and forwarded to `upstream`, when that chain comes back to `name`; nil when it
    /// leaves the proxies. Called with the lock held.
    func loop(_ name: String, listen: sockaddr_in, upstream: sockaddr_in) -> [String]? {
        var chain = [name]
        var next = upstream
        for _ in 0...proxies.count {
            if Self.reaches(next, listen) { return chain + [name] }
            guard let (other, p) = proxies.first(where: { $0.key != name && Self.reaches(next, $0.value.address) }) else { return nil }
            if chain.contains(other) { return nil }
            chain.append(other)
            next = p.upstreamAddress
        }
        return nil
    }

    func refuseLoop(_ name: String, listen: sockaddr_in, upstream: sockaddr_in) throws(APIError) {
        if let chain = loop(name, listen: listen, upstream: upstream) {
            throw APIError(
                400,
                "proxy \(shown: name): its upstream leads back to its own listener (\(chain.map { ShownText.escaped($0) }.joined(separator: " → "))): every connection would open another until no descriptor is left"
            )
        }
    }
}
