import FaultlineEssentials

/// The API's JSON: proxies and toxics as Toxiproxy writes them, and request fields read with
/// their types checked — `"listen": 19403` or `"enabled": "false"` is a 400, never a default.
extension ProxyServer {
    struct ProxyFields {
        var name: String
        var listen: String
        var upstream: String
        var enabled: Bool
    }

    /// A proxy's fields from a create or populate body: `name` and `upstream` required.
    static func proxyFields(_ body: JSONValue) throws(APIError) -> ProxyFields {
        guard body.pairs != nil else { throw APIError(400, "a proxy must be a JSON object, got \(ShownText.escaped(body.text))") }
        guard let name = try string(body, "name"), let upstream = try string(body, "upstream") else {
            throw APIError(400, "missing required field: name and upstream")
        }
        return ProxyFields(
            name: name, listen: try string(body, "listen") ?? "127.0.0.1:0", upstream: upstream, enabled: try bool(body, "enabled") ?? true)
    }

    /// `key` of an object: nil when absent or null, a 400 when it is not text.
    static func string(_ body: JSONValue, _ key: String) throws(APIError) -> String? {
        guard let v = body[key], v != .null else { return nil }
        guard let s = v.string else { throw APIError(400, "'\(key)' must be a string, got \(ShownText.escaped(v.text))") }
        return s
    }

    /// `key` of an object: nil when absent or null, a 400 when it is not true or false.
    static func bool(_ body: JSONValue, _ key: String) throws(APIError) -> Bool? {
        guard let v = body[key], v != .null else { return nil }
        guard let b = v.bool else { throw APIError(400, "'\(key)' must be true or false, got \(ShownText.escaped(v.text))") }
        return b
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
