import Yams

extension ProxyDecl {
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
}
