import FaultlineCore
import Foundation
import Glibc

/// The proxies and their toxics, as the Toxiproxy API sees them: create, change and delete
/// proxies (each a listening address and an upstream), add, change and remove toxics. The data
/// path is the `ProxyLoop`; this is the state it is told about. Thread-safe.
public final class ProxyServer: @unchecked Sendable {
    /// A refusal, with the HTTP status Toxiproxy gives it.
    public struct APIError: Error, Equatable, CustomStringConvertible {
        public var status: Int
        public var message: String
        public var description: String { "\(status) \(message)" }
        init(_ status: Int, _ message: String) {
            self.status = status
            self.message = message
        }
    }

    struct Proxy {
        var name: String
        /// The address it listens on, with the port the kernel chose for `:0`.
        var listen: String
        var upstream: String
        var enabled: Bool
        var toxics: [ToxicSpec] = []
        var listener: Int32?
        var upstreamAddress: sockaddr_in
    }

    private let lock = NSLock()
    private var proxies: [String: Proxy] = [:]
    private var order: [String] = []
    let loop: ProxyLoop

    public init(seed: UInt64 = UInt64.random(in: 0...UInt64.max)) throws(FaultError) {
        loop = try ProxyLoop(seed: seed)
        loop.start()
    }

    /// Closes every listener and connection.
    public func stop() { loop.stop() }

    private func locked<T>(_ body: () throws(APIError) -> T) throws(APIError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: proxies

    func create(name: String, listen: String, upstream: String, enabled: Bool = true) throws(APIError) -> JSONValue {
        try locked { () throws(APIError) in
            guard !name.isEmpty else { throw APIError(400, "missing required field: name") }
            guard proxies[name] == nil else { throw APIError(409, "proxy already exists") }
            let address = try Self.resolve(upstream)
            var p = Proxy(name: name, listen: listen, upstream: upstream, enabled: enabled, upstreamAddress: address)
            if enabled { try start(&p) } else { _ = try Self.parseListen(listen) }
            proxies[name] = p
            order.append(name)
            return Self.json(p)
        }
    }

    func list() -> JSONValue {
        lock.lock()
        defer { lock.unlock() }
        return .object(order.compactMap { name in proxies[name].map { (name, Self.json($0)) } })
    }

    func show(_ name: String) throws(APIError) -> JSONValue {
        try locked { () throws(APIError) in Self.json(try get(name)) }
    }

    /// Changes what is given of `enabled`, `listen`, `upstream`.
    func update(_ name: String, enabled: Bool?, listen: String?, upstream: String?) throws(APIError) -> JSONValue {
        try locked { () throws(APIError) in
            var p = try get(name)
            if let u = upstream, u != p.upstream {
                p.upstreamAddress = try Self.resolve(u)
                p.upstream = u
                loop.send(.upstream(proxy: name, p.upstreamAddress))
            }
            if let l = listen, l != p.listen {
                if p.listener != nil { stopListening(&p) }
                p.listen = l
                if p.enabled { try start(&p) }
            }
            if let e = enabled, e != p.enabled {
                p.enabled = e
                if e { try start(&p) } else { stopListening(&p) }
            }
            proxies[name] = p
            return Self.json(p)
        }
    }

    public func delete(_ name: String) throws(APIError) {
        try locked { () throws(APIError) in
            var p = try get(name)
            stopListening(&p)
            loop.send(.toxics(proxy: name, []))
            proxies[name] = nil
            order.removeAll { $0 == name }
        }
    }

    /// Every proxy enabled again, every toxic removed.
    public func reset() throws(APIError) {
        try locked { () throws(APIError) in
            for name in order {
                guard var p = proxies[name] else { continue }
                p.toxics = []
                loop.send(.toxics(proxy: name, []))
                if !p.enabled {
                    p.enabled = true
                    try start(&p)
                }
                proxies[name] = p
            }
        }
    }

    /// Creates the proxies listed, replacing one of the same name whose listen or upstream
    /// differs; keeps the others.
    func populate(_ list: [JSONValue]) throws(APIError) -> [JSONValue] {
        var out: [JSONValue] = []
        for item in list {
            guard let name = item["name"]?.string, let upstream = item["upstream"]?.string else {
                throw APIError(400, "each proxy needs 'name' and 'upstream'")
            }
            let listen = item["listen"]?.string ?? "127.0.0.1:0"
            let enabled = item["enabled"]?.bool ?? true
            lock.lock()
            let existing = proxies[name]
            lock.unlock()
            if let e = existing {
                if e.upstream == upstream, e.listen == listen || listen.hasSuffix(":0") {
                    out.append(Self.json(e))
                    continue
                }
                try delete(name)
            }
            out.append(try create(name: name, listen: listen, upstream: upstream, enabled: enabled))
        }
        return out
    }

    // MARK: toxics

    func toxics(_ proxy: String) throws(APIError) -> [JSONValue] {
        try locked { () throws(APIError) in try get(proxy).toxics.map(Self.json) }
    }

    func toxic(_ proxy: String, _ name: String) throws(APIError) -> JSONValue {
        try locked { () throws(APIError) in
            guard let t = try get(proxy).toxics.first(where: { $0.name == name }) else { throw APIError(404, "toxic not found") }
            return Self.json(t)
        }
    }

    /// Adds a toxic; it acts on every open connection of the proxy by the time this returns.
    func addToxic(_ proxy: String, _ body: JSONValue) throws(APIError) -> JSONValue {
        try locked { () throws(APIError) in
            var p = try get(proxy)
            guard let type = body["type"]?.string else { throw APIError(400, "missing required field: type") }
            let streamName = body["stream"]?.string ?? "downstream"
            guard let stream = ProxyStream.Direction(rawValue: streamName) else {
                throw APIError(400, "stream was invalid, can be either upstream or downstream")
            }
            let name = body["name"]?.string.flatMap { $0.isEmpty ? nil : $0 } ?? "\(type)_\(streamName)"
            guard !p.toxics.contains(where: { $0.name == name }) else { throw APIError(409, "toxic already exists") }
            let spec = ToxicSpec(
                name: name, stream: stream, toxicity: try Self.toxicity(body["toxicity"]),
                toxic: try Self.makeToxic(type, body["attributes"]))
            p.toxics.append(spec)
            proxies[proxy] = p
            loop.sendAndWait(.toxics(proxy: proxy, p.toxics))
            return Self.json(spec)
        }
    }

    /// Changes a toxic's attributes, toxicity or stream (its type stays).
    func updateToxic(_ proxy: String, _ name: String, _ body: JSONValue) throws(APIError) -> JSONValue {
        try locked { () throws(APIError) in
            var p = try get(proxy)
            guard let i = p.toxics.firstIndex(where: { $0.name == name }) else { throw APIError(404, "toxic not found") }
            var spec = p.toxics[i]
            let type = Swift.type(of: spec.toxic).type
            if let t = body["type"]?.string, t != type { throw APIError(400, "a toxic's type cannot change (it is \(type))") }
            if let a = body["attributes"] {
                // Attributes not given keep their values.
                guard let given = a.pairs else { throw APIError(400, "attributes must be an object") }
                var merged = spec.toxic.attributes.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.number(Double($0.value))) }
                for (k, v) in given {
                    merged.removeAll { $0.0 == k }
                    merged.append((k, v))
                }
                spec.toxic = try Self.makeToxic(type, .object(merged))
            }
            if body["toxicity"] != nil { spec.toxicity = try Self.toxicity(body["toxicity"]) }
            if let s = body["stream"]?.string {
                guard let d = ProxyStream.Direction(rawValue: s) else {
                    throw APIError(400, "stream was invalid, can be either upstream or downstream")
                }
                spec.stream = d
            }
            p.toxics[i] = spec
            proxies[proxy] = p
            loop.sendAndWait(.toxics(proxy: proxy, p.toxics))
            return Self.json(spec)
        }
    }

    public func removeToxic(_ proxy: String, _ name: String) throws(APIError) {
        try locked { () throws(APIError) in
            var p = try get(proxy)
            guard p.toxics.contains(where: { $0.name == name }) else { throw APIError(404, "toxic not found") }
            p.toxics.removeAll { $0.name == name }
            proxies[proxy] = p
            loop.sendAndWait(.toxics(proxy: proxy, p.toxics))
        }
    }

    // MARK: inside

    private func get(_ name: String) throws(APIError) -> Proxy {
        guard let p = proxies[name] else { throw APIError(404, "proxy not found") }
        return p
    }

    private func start(_ p: inout Proxy) throws(APIError) {
        let (fd, bound) = try Self.listen(p.listen)
        p.listener = fd
        p.listen = bound
        loop.send(.listen(proxy: p.name, fd: fd, upstream: p.upstreamAddress))
        loop.send(.toxics(proxy: p.name, p.toxics))
    }

    private func stopListening(_ p: inout Proxy) {
        guard p.listener != nil else { return }
        // Waited for: the port is free again when this returns (an enable may bind it at once).
        loop.sendAndWait(.close(proxy: p.name))
        p.listener = nil
    }

    static func makeToxic(_ type: String, _ attributes: JSONValue?) throws(APIError) -> any Toxic {
        var numbers: ToxicAttributes = [:]
        if let a = attributes, a != .null {
            guard let pairs = a.pairs else { throw APIError(400, "attributes must be an object") }
            for (k, v) in pairs {
                guard let n = v.number, n == n.rounded(), abs(n) < 1e15 else {
                    throw APIError(400, "toxic \(type) attribute '\(k)' must be a whole number, got \(v.text)")
                }
                numbers[k] = Int64(n)
            }
        }
        do { return try ToxicKinds.make(type, numbers) } catch { throw APIError(400, error.description) }
    }

    static func toxicity(_ v: JSONValue?) throws(APIError) -> Double {
        guard let v, v != .null else { return 1 }
        guard let n = v.number, (0...1).contains(n) else { throw APIError(400, "toxicity must be a number from 0 to 1, got \(v.text)") }
        return n
    }

    /// `host:port` to listen on: an IPv4 address or `localhost` (an empty host: every address).
    static func parseListen(_ text: String) throws(APIError) -> sockaddr_in {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            throw APIError(400, "listen must be host:port, got '\(text)'")
        }
        var host = String(text[..<colon])
        if host == "localhost" { host = "127.0.0.1" }
        if host.isEmpty { host = "0.0.0.0" }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &a.sin_addr) == 1 else { throw APIError(400, "listen host must be an IPv4 address, got '\(host)'") }
        return a
    }

    /// Binds and listens on `text`; the descriptor and the address as bound.
    static func listen(_ text: String) throws(APIError) -> (Int32, String) {
        var a = try parseListen(text)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw APIError(500, "socket: \(errnoText())") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, 4)
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, 16) } }
        guard rc == 0, Glibc.listen(fd, 1024) == 0 else {
            let e = errnoText()
            close(fd)
            throw APIError(500, "listen tcp \(text): \(e)")
        }
        var len = socklen_t(16)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        var host = [CChar](repeating: 0, count: 16)
        inet_ntop(AF_INET, &a.sin_addr, &host, 16)
        return (
            fd, "\(String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)):\(UInt16(bigEndian: a.sin_port))"
        )
    }

    /// `host:port` of the upstream, resolved now (IPv4).
    static func resolve(_ text: String) throws(APIError) -> sockaddr_in {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0 else {
            throw APIError(400, "upstream must be host:port, got '\(text)'")
        }
        guard let r = TCPProbe.resolve(String(text[..<colon]), Int(port)), r.0.ss_family == sa_family_t(AF_INET) else {
            throw APIError(400, "upstream host '\(text[..<colon])' does not resolve to an IPv4 address")
        }
        var storage = r.0
        return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee } }
    }

    static func json(_ p: Proxy) -> JSONValue {
        .object([
            ("name", .string(p.name)), ("listen", .string(p.listen)), ("upstream", .string(p.upstream)), ("enabled", .bool(p.enabled)),
            ("toxics", .array(p.toxics.map(json))),
        ])
    }

    static func json(_ t: ToxicSpec) -> JSONValue {
        .object([
            ("attributes", .object(t.toxic.attributes.sorted { $0.key < $1.key }.map { ($0.key, .number(Double($0.value))) })),
            ("name", .string(t.name)), ("type", .string(type(of: t.toxic).type)), ("stream", .string(t.stream.rawValue)),
            ("toxicity", .number(t.toxicity)),
        ])
    }
}
