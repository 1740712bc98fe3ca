import FaultlineEssentials
import FoundationEssentials

/// Toxics on a proxy: listed, added, changed and removed; each change acts on every open
/// connection of the proxy by the time it returns.
extension ProxyServer {
    package func toxics(_ proxy: String) throws(APIError) -> [JSONValue] {
        try locked { () throws(APIError) in try get(proxy).toxics.map(Self.json) }
    }

    func toxic(_ proxy: String, _ name: String) throws(APIError) -> JSONValue {
        try locked { () throws(APIError) in
            guard let t = try get(proxy).toxics.first(where: { $0.name == name }) else { throw APIError(404, "toxic not found") }
            return Self.json(t)
        }
    }

    package func addToxic(_ proxy: String, _ body: JSONValue) throws(APIError) -> JSONValue {
        try locked { () throws(APIError) in
            var p = try get(proxy)
            guard body.pairs != nil else { throw APIError(400, "a toxic must be a JSON object") }
            guard let type = try Self.string(body, "type") else { throw APIError(400, "missing required field: type") }
            let streamName = try Self.string(body, "stream") ?? "downstream"
            guard let stream = ProxyStream.Direction(rawValue: streamName) else {
                throw APIError(400, "stream was invalid, can be either upstream or downstream")
            }
            let given = try Self.string(body, "name") ?? ""
            let name = given.isEmpty ? "\(type)_\(streamName)" : given
            guard name.utf8.count <= 255, !name.unicodeScalars.contains(where: ShownText.isControl) else {
                throw APIError(400, "a toxic's name must be at most 255 bytes without control characters")
            }
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

    /// Changes a toxic's attributes, toxicity or stream (its type stays); all or nothing.
    package func updateToxic(_ proxy: String, _ name: String, _ body: JSONValue) throws(APIError) -> JSONValue {
        try locked { () throws(APIError) in
            var p = try get(proxy)
            guard let i = p.toxics.firstIndex(where: { $0.name == name }) else { throw APIError(404, "toxic not found") }
            guard body.pairs != nil else { throw APIError(400, "a toxic must be a JSON object") }
            var spec = p.toxics[i]
            let type = Swift.type(of: spec.toxic).type
            if let t = try Self.string(body, "type"), t != type { throw APIError(400, "a toxic's type cannot change (it is \(type))") }
            if let a = body["attributes"], a != .null {
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
            if let s = try Self.string(body, "stream") {
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

    /// A toxic of `type` from the API's attributes: whole numbers only, each within its bound
    /// (`Toxic.read`), so nothing computed from them can overflow.
    static func makeToxic(_ type: String, _ attributes: JSONValue?) throws(APIError) -> any Toxic {
        var numbers: ToxicAttributes = [:]
        if let a = attributes, a != .null {
            guard let pairs = a.pairs else { throw APIError(400, "attributes must be an object") }
            for (k, v) in pairs {
                guard let n = v.number, n == n.rounded() else {
                    throw APIError(
                        400,
                        "toxic \(ShownText.escaped(type)) attribute \(shown: k) must be a whole number, got \(ShownText.escaped(v.text))")
                }
                // Clamped into 64 bits first: the bound check then names the limit.
                numbers[k] = Int64(min(max(n, -1e15), 1e15))
            }
        }
        do { return try ToxicKinds.make(type, numbers) } catch { throw APIError(400, error.description) }
    }

    static func toxicity(_ v: JSONValue?) throws(APIError) -> Double {
        guard let v, v != .null else { return 1 }
        guard let n = v.number, (0...1).contains(n) else {
            throw APIError(400, "toxicity must be a number from 0 to 1, got \(ShownText.escaped(v.text))")
        }
        return n
    }
}
