import Yams

/// A fault proxy the run starts before its steady state and stops at its end: connections to
/// `listen` are forwarded to `upstream` by the agent of `host`, and `proxy` faults add toxics to
/// it. Point a client at `listen` to put the proxy in its path.
public struct ProxyDecl: Codable, Equatable, Sendable {
    public var name: String
    public var host: String
    public var listen: String
    public var upstream: String

    public init(name: String, host: String = "local", listen: String, upstream: String) {
        self.name = name
        self.host = host
        self.listen = listen
        self.upstream = upstream
    }

    /// `proxies: {NAME: {listen: HOST:PORT, upstream: HOST:PORT, host: local}}`.
    static func readAll(_ node: Node, reader r: NodeReader) -> [ProxyDecl] {
        guard case .mapping(let m) = node else {
            r.error(node, "'proxies' must be a mapping of proxy names to {listen, upstream}, got \(NodeReader.describe(node))")
            return []
        }
        var out: [ProxyDecl] = []
        for (k, v) in r.merged(Array(m), path: "proxies") {
            guard let name = k.string, isName(name) else {
                r.error(k, "proxy names are 1 to 64 letters, digits, '-', '_' or '.', got \(NodeReader.describe(k))")
                continue
            }
            let path = "proxies.\(name)"
            guard let f = r.fields(v, path: path, allowed: ["listen", "upstream", "host"]) else { continue }
            let listen = r.string(f, "listen", required: true)
            let upstream = r.string(f, "upstream", required: true)
            let host = r.string(f, "host") ?? "local"
            if let l = listen, !isAddress(l, literal: true) {
                r.error(f.values["listen"], "'\(path).listen' must be an IPv4 address and port like '127.0.0.1:16379', got \(shown: l)")
            }
            if let u = upstream, !isAddress(u, literal: false) {
                r.error(f.values["upstream"], "'\(path).upstream' must be host:port like '127.0.0.1:6379', got \(shown: u)")
            }
            // Kept even when an address is wrong (the file fails on that error): faults naming it
            // would otherwise be told it does not exist.
            out.append(ProxyDecl(name: name, host: host, listen: listen ?? "", upstream: upstream ?? ""))
        }
        // Two proxies on one address would fail only when the run starts them: say it now.
        var seen: [String: String] = [:]
        for p in out where !p.listen.hasSuffix(":0") {
            if let other = seen["\(p.host) \(p.listen)"] {
                r.error(path: "proxies.\(p.name).listen", "proxies '\(other)' and '\(p.name)' both listen on \(p.listen)")
            }
            seen["\(p.host) \(p.listen)"] = p.name
        }
        return out
    }

    static func isName(_ s: String) -> Bool {
        (1...64).contains(s.utf8.count) && s.utf8.allSatisfy { YAMLText.letter($0) || YAMLText.digit($0) || [45, 46, 95].contains($0) }
    }

    /// `host:port`, the host an IPv4 literal (`literal`) or any name; the port 0–65535 (1+ for an upstream).
    static func isAddress(_ s: String, literal: Bool) -> Bool {
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (literal ? 0 : 1)...65_535 ~= port else {
            return false
        }
        let host = String(s[..<colon])
        if literal { return host == "localhost" || IPv4Address(host) != nil }
        return !host.isEmpty && host.utf8.count <= 253
            && host.utf8.allSatisfy { YAMLText.letter($0) || YAMLText.digit($0) || [45, 46].contains($0) }
    }
}
