import Foundation
import Yams

/// Reads one probe entry of `steady_state` or `probes`.
struct ProbeReader {
    let reader: NodeReader
    static let kinds = ["http", "tcp", "command", "process", "prometheus"]
    static let httpMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    func read(_ node: Node, path: String, continuous: Bool) -> ProbeSpec? {
        let r = reader
        let common = continuous ? ["name", "interval", "max_latency"] : ["name", "max_latency"]
        guard let f = r.fields(node, path: path, allowed: common + Self.kinds, what: "a probe mapping", unknown: "key or probe kind")
        else { return nil }
        let present = Self.kinds.filter { f.has($0) }
        guard present.count == 1, let kindKey = present.first, let kindNode = f.values[kindKey] else {
            if present.isEmpty {
                r.error(node, "probe '\(path)' needs one kind (valid: \(Self.kinds.joined(separator: ", ")))")
            } else {
                r.error(f.keys[present[1]], "probe '\(path)' has more than one kind: \(present.joined(separator: ", "))")
            }
            return nil
        }
        let kindPath = f.child(kindKey)
        let kind: ProbeSpec.Kind?
        switch kindKey {
        case "http": kind = http(kindNode, path: kindPath).map { .http($0) }
        case "tcp": kind = tcp(kindNode, path: kindPath).map { .tcp($0) }
        case "command": kind = command(kindNode, path: kindPath).map { .command($0) }
        case "prometheus": kind = prometheus(kindNode, path: kindPath).map { .prometheus($0) }
        default: kind = process(kindNode, path: kindPath).map { .process($0) }
        }
        let name = r.string(f, "name") ?? path
        var interval: Nanos?
        if continuous {
            interval = r.duration(f, "interval", positive: true, max: Bounds.hour) ?? 100_000_000
            if let i = interval, i < 1_000_000 {
                r.error(f.values["interval"], "'\(f.child("interval"))' must be at least 1ms, got '\(DurationText.format(i))'")
            }
        }
        let maxLatency = r.duration(f, "max_latency", positive: true, max: Bounds.hour)
        guard let kind else { return nil }
        return ProbeSpec(name: name, kind: kind, interval: interval, maxLatency: maxLatency, path: path)
    }

    func http(_ node: Node, path: String) -> ProbeSpec.HTTP? {
        let r = reader
        if case .scalar(let s) = node { return checkURL(s.string, node: node, path: path).map { ProbeSpec.HTTP(url: $0) } }
        let keys = ["url", "method", "headers", "body", "timeout", "status", "body_contains", "body_regex"]
        guard let f = r.fields(node, path: path, allowed: keys, what: "a URL or a mapping with 'url'") else { return nil }
        guard let url = r.string(f, "url", required: true), let valid = checkURL(url, node: f.values["url"], path: f.child("url")) else {
            return nil
        }
        var h = ProbeSpec.HTTP(url: valid)
        if let m = r.string(f, "method") {
            if Self.httpMethods.contains(m.uppercased()) {
                h.method = m.uppercased()
            } else {
                r.error(
                    f.values["method"],
                    "'\(f.child("method"))' must be an HTTP method, got \(shown: m) \(Suggest.hint(for: m, in: Self.httpMethods))")
            }
        }
        if let hn = f.values["headers"] {
            if case .mapping(let m) = hn {
                for (k, v) in m { if let (name, value) = header(k, v, path: f.child("headers")) { h.headers[name] = value } }
            } else {
                r.error(hn, "'\(f.child("headers"))' must be a mapping of header names to values, got \(NodeReader.describe(hn))")
            }
        }
        h.body = r.string(f, "body")
        if let t = r.duration(f, "timeout", positive: true, max: Bounds.hour) { h.timeout = t }
        if let sn = f.values["status"], let ranges = statusRanges(sn, path: f.child("status")) { h.status = ranges }
        h.bodyContains = r.string(f, "body_contains")
        if let re = r.string(f, "body_regex") {
            do {
                _ = try Pattern(re)
            } catch {
                r.error(f.values["body_regex"], "'\(f.child("body_regex"))' is not a valid regular expression: \(shown: re): \(error)")
            }
            h.bodyRegex = re
        }
        return h
    }

    /// `{url: BASE, query: PROMQL, timeout}`: the server's base URL (no query string of its
    /// own) and one instant query of at most 4 KiB.
    func prometheus(_ node: Node, path: String) -> ProbeSpec.Prometheus? {
        let r = reader
        guard let f = r.fields(node, path: path, allowed: ["url", "query", "timeout"], what: "a mapping with 'url' and 'query'") else {
            return nil
        }
        let url = r.string(f, "url", required: true).flatMap { checkURL($0, node: f.values["url"], path: f.child("url")) }
        if let u = url, u.contains("?") || u.contains("#") {
            r.error(f.values["url"], "'\(f.child("url"))' must be the server's base URL (faultline adds /api/v1/query), got \(shown: u)")
        }
        let query = r.string(f, "query", required: true)
        if let q = query,
            q.isEmpty || q.utf8.count > 4096 || q.unicodeScalars.contains(where: { $0.value < 32 && $0 != "\n" && $0 != "\t" })
        {
            r.error(f.values["query"], "'\(f.child("query"))' must be a PromQL query of 1 to 4096 bytes without control characters")
        }
        guard let url, let query else { return nil }
        var p = ProbeSpec.Prometheus(url: url.hasSuffix("/") ? String(url.dropLast()) : url, query: query)
        if let t = r.duration(f, "timeout", positive: true, max: Bounds.hour) { p.timeout = t }
        return p
    }

    /// A header name is an HTTP token; a value is text without CR, LF or NUL (either would let
    /// the file write a header of its own, or a second request).
    func header(_ k: Node, _ v: Node, path: String) -> (String, String)? {
        let r = reader
        let tokenChars = Set("!#$%&'*+-.^_`|~".utf8)
        guard case .scalar(let name) = k, !name.string.isEmpty,
            name.string.utf8.allSatisfy({ YAMLText.letter($0) || YAMLText.digit($0) || tokenChars.contains($0) })
        else {
            r.error(k, "header names in '\(path)' must be HTTP tokens (letters, digits, '-'), got \(NodeReader.describe(k))")
            return nil
        }
        guard case .scalar(let value) = v else {
            r.error(v, "'\(path).\(name.string)' must be text, got \(NodeReader.describe(v))")
            return nil
        }
        guard !value.string.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
            r.error(v, "'\(path).\(name.string)' must not contain a line break or NUL, got \(shown: value.string)")
            return nil
        }
        return (name.string, value.string)
    }

    func checkURL(_ url: String, node: Node?, path: String) -> String? {
        if let problem = NetworkText.urlProblem(url) {
            reader.error(node, "'\(path)' \(problem), got \(shown: url)")
            return nil
        }
        return url
    }

    /// `200`, `[200, 204]`, `2xx`, `200-399` or a list of those.
    func statusRanges(_ node: Node, path: String) -> [ClosedRange<Int>]? {
        let items: [Node]
        if case .sequence(let s) = node { items = Array(s) } else { items = [node] }
        var out: [ClosedRange<Int>] = []
        for item in items {
            let text = item.string ?? ""
            if let v = Int(text), (100...599).contains(v) {
                out.append(v...v)
            } else if text.count == 3, text.hasSuffix("xx"), let d = Int(text.prefix(1)), (1...5).contains(d) {
                out.append((d * 100)...(d * 100 + 99))
            } else if let dash = text.firstIndex(of: "-"), let lo = Int(text[..<dash]),
                let hi = Int(text[text.index(after: dash)...]), 100 <= lo, lo <= hi, hi <= 599
            {
                out.append(lo...hi)
            } else {
                reader.error(item, "'\(path)' must be status codes like 200, '2xx' or '200-399', got \(NodeReader.describe(item))")
                return nil
            }
        }
        return out
    }

    func tcp(_ node: Node, path: String) -> ProbeSpec.TCP? {
        let r = reader
        var timeout: Nanos?
        var addressNode = node
        if case .mapping = node {
            guard let f = r.fields(node, path: path, allowed: ["address", "timeout"]) else { return nil }
            timeout = r.duration(f, "timeout", positive: true, max: Bounds.hour)
            guard let a = f.value("address", required: true, reader: r) else { return nil }
            addressNode = a
        }
        guard let text = addressNode.string, let (host, port) = Self.splitHostPort(text) else {
            r.error(
                addressNode, "'\(path)' must be an address like '127.0.0.1:8080' or '[::1]:80', got \(NodeReader.describe(addressNode))")
            return nil
        }
        var t = ProbeSpec.TCP(host: host, port: port)
        if let timeout { t.timeout = timeout }
        return t
    }

    /// Splits `host:port` or `[v6]:port`; `nil` when malformed, the port is out of range, or
    /// the host is neither a name nor an IP literal (a NUL, a space, a control character).
    static func splitHostPort(_ text: String) -> (String, Int)? { NetworkText.hostPort(text) }

    func command(_ node: Node, path: String) -> ProbeSpec.Command? {
        let r = reader
        if case .sequence = node {
            return StepReader(reader: r).commandSpec(node, path: path, extra: []).0.map { ProbeSpec.Command(command: $0) }
        }
        let keys = ["exit_code", "stdout_contains", "timeout", "value"]  // check-kinds: field
        let (spec, f) = StepReader(reader: r).commandSpec(node, path: path, extra: keys)
        guard let spec, let f else { return nil }
        var c = ProbeSpec.Command(command: spec)
        if let code = r.int(f, "exit_code", range: 0...255) { c.exitCode = Int32(code) }
        c.stdoutContains = r.string(f, "stdout_contains")
        if let t = r.duration(f, "timeout", positive: true, max: Bounds.hour) { c.timeout = t }
        c.value = r.bool(f, "value") ?? false  // check-kinds: field
        return c
    }

    func process(_ node: Node, path: String) -> ProbeSpec.Process? {
        let r = reader
        if case .scalar = node {
            return ProcessTarget.name(node, path: path, reader: r, fault: false).map { ProbeSpec.Process(selector: .name($0)) }
        }
        let allowed = ProcessTarget.selectorKeys + ["host", "min"]
        guard let f = r.fields(node, path: path, allowed: allowed, what: "a process name or a mapping") else { return nil }
        guard let selector = ProcessTarget.selector(f, reader: r, fault: false) else { return nil }
        var p = ProbeSpec.Process(selector: selector)
        p.host = r.string(f, "host") ?? "local"
        if let m = r.int(f, "min", range: 1...100_000) { p.min = m }
        return p
    }
}
