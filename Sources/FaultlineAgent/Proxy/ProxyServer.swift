import FaultlineEssentials
import FoundationEssentials
import Glibc

/// The proxies and their toxics, as the Toxiproxy API sees them: create, change and delete
/// proxies (each a listening address and an upstream), add, change and remove toxics. The data
/// path is the `ProxyLoop`; this is the state it is told about. Thread-safe.
///
/// Every change is checked whole before anything changes, and one that fails half-way is undone:
/// a refused update leaves the proxy as it was (listening, if it was), `/reset` resets every
/// proxy it can and names the ones it could not, `/populate` creates all or none.
public final class ProxyServer: @unchecked Sendable {
    /// A refusal, with the HTTP status Toxiproxy gives it.
    public struct APIError: Error, Equatable, CustomStringConvertible {
        public var status: Int
        public var message: String
        public var description: String { "\(status) \(message)" }
        package init(_ status: Int, _ message: String) {
            self.status = status
            self.message = message
        }
    }

    struct Proxy {
        var name: String
        /// The address it listens on as given, or as bound (the port the kernel chose for `:0`).
        var listen: String
        var address: sockaddr_in
        var upstream: String
        var upstreamAddress: sockaddr_in
        var enabled: Bool
        var toxics: [ToxicSpec] = []
        var listener: Int32?
    }

    let lock = Lock()
    var proxies: [String: Proxy] = [:]
    var order: [String] = []
    let loop: ProxyLoop

    public init(seed: UInt64 = UInt64.random(in: 0...UInt64.max)) throws(FaultError) {
        loop = try ProxyLoop(seed: seed)
        loop.start()
    }

    /// Closes every listener and connection.
    public func stop() { loop.stop() }

    func locked<T>(_ body: () throws(APIError) -> T) throws(APIError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: proxies

    package func create(name: String, listen: String, upstream: String, enabled: Bool = true) throws(APIError) -> JSONValue {
        try locked { () throws(APIError) in Self.json(try createLocked(name: name, listen: listen, upstream: upstream, enabled: enabled)) }
    }

    private func createLocked(name: String, listen: String, upstream: String, enabled: Bool) throws(APIError) -> Proxy {
        guard !name.isEmpty, name.utf8.count <= 255, !name.unicodeScalars.contains(where: ShownText.isControl) else {
            throw APIError(400, "a proxy's name must be 1 to 255 bytes without control characters")
        }
        guard proxies[name] == nil else { throw APIError(409, "proxy already exists") }
        var p = Proxy(
            name: name, listen: listen, address: try Self.parseListen(listen), upstream: upstream,
            upstreamAddress: try Self.resolve(upstream),
            enabled: enabled)
        try refuseLoop(name, listen: p.address, upstream: p.upstreamAddress)
        if enabled { try bind(&p) }
        proxies[name] = p
        order.append(name)
        if enabled { attach(p) }
        return p
    }

    func list() -> JSONValue {
        lock.lock()
        defer { lock.unlock() }
        return .object(order.compactMap { name in proxies[name].map { (name, Self.json($0)) } })
    }

    func show(_ name: String) throws(APIError) -> JSONValue {
        try locked { () throws(APIError) in Self.json(try get(name)) }
    }

    /// Changes what is given of `enabled`, `listen`, `upstream`; all of it or nothing.
    package func update(_ name: String, enabled: Bool?, listen: String?, upstream: String?) throws(APIError) -> JSONValue {
        try locked { () throws(APIError) in Self.json(try updateLocked(name, enabled: enabled, listen: listen, upstream: upstream)) }
    }

    private func updateLocked(_ name: String, enabled: Bool?, listen: String?, upstream: String?) throws(APIError) -> Proxy {
        let old = try get(name)
        var p = old
        if let u = upstream, u != p.upstream {
            p.upstreamAddress = try Self.resolve(u)
            p.upstream = u
        }
        let rebind = listen.map { $0 != p.listen } ?? false
        if let l = listen, rebind {
            p.address = try Self.parseListen(l)
            p.listen = l
        }
        if let e = enabled { p.enabled = e }
        try refuseLoop(name, listen: p.address, upstream: p.upstreamAddress)
        if p.enabled, rebind || !old.enabled {
            // The new listener first, so a refusal leaves the old one listening; the same port
            // (or one the old listener covers) can be bound only once the old one is closed.
            do {
                p.listener = nil
                try bind(&p)
            } catch {
                guard old.listener != nil else { throw error }
                detach(old)
                do {
                    try bind(&p)
                } catch let second {
                    var restored = old
                    try? bind(&restored)
                    if restored.listener != nil { attach(restored) } else { restored.enabled = false }
                    proxies[name] = restored
                    throw second
                }
            }
            if let fd = old.listener, fd != p.listener { detach(old) }
            attach(p)
        } else if !p.enabled, old.listener != nil {
            detach(old)
            p.listener = nil
        } else if p.upstream != old.upstream {
            loop.send(.upstream(proxy: name, p.upstreamAddress))
        }
        proxies[name] = p
        return p
    }

    public func delete(_ name: String) throws(APIError) {
        try locked { () throws(APIError) in try deleteLocked(name) }
    }

    private func deleteLocked(_ name: String) throws(APIError) {
        let p = try get(name)
        if p.listener != nil { detach(p) }
        loop.send(.toxics(proxy: name, []))
        proxies[name] = nil
        order.removeAll { $0 == name }
    }

    /// Every toxic removed from every proxy, then every proxy enabled again; a proxy that cannot
    /// listen again is named (409), the others are reset all the same.
    public func reset() throws(APIError) {
        try locked { () throws(APIError) in
            for name in order { loop.send(.toxics(proxy: name, [])) }
            var failed: [String] = []
            for name in order {
                guard var p = proxies[name] else { continue }
                p.toxics = []
                proxies[name] = p
                guard !p.enabled else { continue }
                do throws(APIError) {
                    _ = try updateLocked(name, enabled: true, listen: nil, upstream: nil)
                } catch {
                    failed.append("\(ShownText.escaped(name)): \(error.message)")
                }
            }
            if !failed.isEmpty {
                throw APIError(409, "reset removed every toxic, but could not enable \(failed.joined(separator: "; "))")
            }
        }
    }

    /// Creates the proxies listed, replacing one of the same name whose listen or upstream
    /// differs and keeping the others; every entry is checked before any is created, and if one
    /// cannot listen the proxies this call created or changed are put back.
    func populate(_ list: [JSONValue]) throws(APIError) -> [JSONValue] {
        let entries = try list.map { (item) throws(APIError) in try Self.proxyFields(item) }
        var seen = Set<String>()
        for e in entries where !seen.insert(e.name).inserted { throw APIError(400, "proxy \(shown: e.name) is listed twice") }
        return try locked { () throws(APIError) in
            var undo: [() -> Void] = []
            var out: [JSONValue] = []
            do throws(APIError) {
                for e in entries {
                    if let existing = proxies[e.name] {
                        if existing.upstream == e.upstream, existing.listen == e.listen || e.listen.hasSuffix(":0") {
                            out.append(Self.json(existing))
                            continue
                        }
                        let p = try updateLocked(e.name, enabled: e.enabled, listen: e.listen, upstream: e.upstream)
                        undo.append { [self] in
                            _ = try? updateLocked(e.name, enabled: existing.enabled, listen: existing.listen, upstream: existing.upstream)
                        }
                        out.append(Self.json(p))
                    } else {
                        let p = try createLocked(name: e.name, listen: e.listen, upstream: e.upstream, enabled: e.enabled)
                        undo.append { [self] in try? deleteLocked(e.name) }
                        out.append(Self.json(p))
                    }
                }
            } catch {
                for u in undo.reversed() { u() }
                throw APIError(error.status, "populate changed nothing: \(error.message)")
            }
            return out
        }
    }

    // MARK: inside

    func get(_ name: String) throws(APIError) -> Proxy {
        guard let p = proxies[name] else { throw APIError(404, "proxy not found") }
        return p
    }

    /// Binds `p`'s listener (the loop is not told yet); its address becomes the bound one, and
    /// a loop through the port the kernel chose is refused with the listener closed again.
    private func bind(_ p: inout Proxy) throws(APIError) {
        let (fd, bound) = try Self.listen(p.listen)
        do {
            try refuseLoop(p.name, listen: bound, upstream: p.upstreamAddress)
        } catch {
            close(fd)
            throw error
        }
        p.listener = fd
        p.address = bound
        p.listen = Self.text(bound)
    }

    /// Hands a bound listener and the toxics to the loop.
    private func attach(_ p: Proxy) {
        guard let fd = p.listener else { return }
        loop.send(.listen(proxy: p.name, fd: fd, upstream: p.upstreamAddress))
        loop.send(.toxics(proxy: p.name, p.toxics))
    }

    /// Closes the proxy's listener and connections; waited for, so the port is free again.
    private func detach(_ p: Proxy) {
        loop.sendAndWait(.close(proxy: p.name))
    }
}
