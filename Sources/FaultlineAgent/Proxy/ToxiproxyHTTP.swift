import FoundationEssentials

/// The control API's HTTP/1.1 requests, read from bytes alone (no socket: fuzzed as it is):
/// a request line, headers up to 64 KiB, a body of Content-Length up to 1 MiB. What is not
/// such a request is answered with the 4xx that says why, never guessed at.
public enum ToxiproxyHTTP {
    static let maxHead = 65_536
    static let maxBody = 1 << 20
    static let maxTarget = 8_192

    package struct Request: Equatable, Sendable {
        var method: String
        var path: String
        var body: [UInt8]
    }

    package enum Parse: Equatable {
        /// More bytes are needed (none of the bounds is passed yet).
        case incomplete
        case request(Request)
        /// A status and why.
        case bad(Int, String)
    }

    package static func parse(_ data: [UInt8], searchedTo: Int = 0) -> Parse {
        guard let end = headEnd(data, from: searchedTo) else {
            return data.count > maxHead ? .bad(431, "request headers larger than 64 KiB") : .incomplete
        }
        guard end <= maxHead else { return .bad(431, "request headers larger than 64 KiB") }
        let lines = split(data[0..<end])
        guard let first = lines.first else { return .bad(400, "no request line") }
        let parts = first.split(separator: 32, omittingEmptySubsequences: false)
        guard parts.count == 3, let method = token(parts[0]), parts[2].starts(with: Array("HTTP/1.".utf8)) else {
            return .bad(400, "a request line is 'METHOD /path HTTP/1.1'")
        }
        let target = parts[1]
        guard target.first == UInt8(ascii: "/"), target.count <= maxTarget, target.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            return .bad(400, "the request target must be a path of at most 8 KiB of printable characters")
        }
        var length: Int?
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return .bad(400, "a header line without ':'") }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).lowercased()
            let value = line[(colon + 1)...].drop { $0 == 32 || $0 == 9 }
            let trimmed = value.reversed().drop { $0 == 32 || $0 == 9 }.reversed()
            switch name {
            case "content-length":
                guard !trimmed.isEmpty, trimmed.count <= 8, trimmed.allSatisfy({ (48...57).contains($0) }),
                    let n = Int(String(decoding: trimmed, as: UTF8.self))
                else { return .bad(400, "Content-Length must be a number") }
                if let l = length, l != n { return .bad(400, "two different Content-Length headers") }
                guard n <= maxBody else { return .bad(413, "a request body is at most 1 MiB") }
                length = n
            case "transfer-encoding":
                return .bad(501, "chunked request bodies are not supported; send Content-Length")
            default: break
            }
        }
        let bodyStart = end + 4
        let want = length ?? 0
        guard data.count - bodyStart >= want else { return .incomplete }
        let rawPath = target.split(separator: UInt8(ascii: "?"), maxSplits: 1, omittingEmptySubsequences: false)[0]
        return .request(
            Request(method: method, path: String(decoding: rawPath, as: UTF8.self), body: Array(data[bodyStart..<(bodyStart + want)])))
    }

    /// The offset of the blank line that ends the headers (CR LF CR LF), searched from `from`
    /// (a reader that has searched the first bytes already starts there: a client sending one
    /// byte at a time costs a linear search, not a quadratic one).
    static func headEnd(_ d: [UInt8], from: Int = 0) -> Int? {
        var i = max(0, from - 3)
        while i + 3 < d.count {
            if d[i] == 13, d[i + 1] == 10, d[i + 2] == 13, d[i + 3] == 10 { return i }
            i += 1
        }
        return nil
    }

    static func split(_ head: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var start = head.startIndex
        var i = head.startIndex
        while i < head.endIndex {
            if head[i] == 13, i + 1 < head.endIndex, head[i + 1] == 10 {
                out.append(head[start..<i])
                i += 2
                start = i
            } else {
                i += 1
            }
        }
        out.append(head[start..<head.endIndex])
        return out
    }

    static func token(_ b: ArraySlice<UInt8>) -> String? {
        guard (1...16).contains(b.count), b.allSatisfy({ (65...90).contains($0) }) else { return nil }
        return String(decoding: b, as: UTF8.self)
    }

    /// `%XX` sequences decoded; nil when one is malformed or the bytes are not UTF-8 (what
    /// Foundation's `removingPercentEncoding` answers).
    static func percentDecoded(_ s: Substring) -> String? {
        var out: [UInt8] = []
        var bytes = s.utf8.makeIterator()
        func hex(_ c: UInt8?) -> UInt8? {
            guard let c else { return nil }
            switch c {
            case 48...57: return c - 48
            case 65...70: return c - 55
            case 97...102: return c - 87
            default: return nil
            }
        }
        while let c = bytes.next() {
            guard c == 37 else {
                out.append(c)
                continue
            }
            guard let hi = hex(bytes.next()), let lo = hex(bytes.next()) else { return nil }
            out.append(hi << 4 | lo)
        }
        return String(validating: out, as: UTF8.self)
    }

    /// The path's segments, percent-decoded (a segment that does not decode is kept as written).
    static func segments(_ path: String) -> [String] {
        path.split(separator: "/").map { percentDecoded($0) ?? String($0) }
    }

    /// Everything the API does with a request's bytes before it touches a proxy: the request
    /// parsed, its path split, its body read as JSON and as the proxy or toxic it would make.
    /// For `make fuzz`; the answer names what the bytes were.
    public static func check(_ bytes: [UInt8]) -> String {
        guard case .request(let r) = parse(bytes) else { return "not a request" }
        let parts = segments(r.path)
        guard let body = try? JSONValue.parse(r.body) else { return "\(r.method) \(parts.count) segments, no JSON" }
        let proxy = (try? ProxyServer.proxyFields(body)).map { "proxy \($0.name)" } ?? "no proxy"
        let type = (try? ProxyServer.string(body, "type")) ?? nil
        let toxic =
            type.flatMap { try? ProxyServer.makeToxic($0, body["attributes"]) }.map { "toxic \(Swift.type(of: $0).type)" } ?? "no toxic"
        _ = try? ProxyServer.toxicity(body["toxicity"])
        return "\(r.method) \(parts.count) segments, \(proxy), \(toxic)"
    }

    static func response(status: Int, body: JSONValue?) -> [UInt8] {
        let reasons = [
            200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 404: "Not Found", 408: "Request Timeout", 409: "Conflict",
            413: "Payload Too Large", 431: "Request Header Fields Too Large", 500: "Internal Server Error", 501: "Not Implemented",
            503: "Service Unavailable",
        ]
        let text = body.map { $0.text + "\n" } ?? ""
        var head = "HTTP/1.1 \(status) \(reasons[status] ?? "Error")\r\nConnection: close\r\n"
        if body != nil { head += "Content-Type: application/json\r\n" }
        head += "Content-Length: \(text.utf8.count)\r\n\r\n"
        return Array((head + text).utf8)
    }
}
