import FaultlineCore
import Foundation
import Glibc

/// Toxiproxy's HTTP control API over a `ProxyServer`, so that existing Toxiproxy clients and
/// the test suites built on them drive faultline's proxy unchanged: `/proxies`, `/populate`,
/// `/reset`, `/version`, and each proxy's `/toxics`, with Toxiproxy's status codes and JSON.
/// One thread, one request per connection (answered with `Connection: close`).
public final class ToxiproxyAPI: @unchecked Sendable {
    public let server: ProxyServer
    private let listener: Int32
    /// The address it listens on (with the port the kernel chose for `:0`).
    public let address: String
    private var thread: Thread?
    private let stopping = Locked(false)

    public init(server: ProxyServer, listen: String) throws(ProxyServer.APIError) {
        self.server = server
        let (fd, bound) = try ProxyServer.listen(listen)
        // Blocking accepts on this thread; the loop's listeners are the non-blocking ones.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        listener = fd
        address = bound
    }

    public func start() {
        let t = Thread { [self] in serve() }
        t.name = "toxiproxy api"
        thread = t
        t.start()
    }

    public func stop() {
        stopping.mutate { $0 = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// Creates the proxies of a config file (Toxiproxy's: a JSON list of proxies); one line each.
    public func populate(_ bytes: [UInt8]) throws(ProxyServer.APIError) -> [String] {
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch { throw ProxyServer.APIError(400, "not JSON: \(error)") }
        guard let list = value.array ?? value["proxies"]?.array else { throw ProxyServer.APIError(400, "expected a list of proxies") }
        return try server.populate(list).map { p in
            "\(p["name"]?.string ?? "?"): \(p["listen"]?.string ?? "?") → \(p["upstream"]?.string ?? "?")"
        }
    }

    private func serve() {
        while !stopping.value {
            let c = accept(listener, nil, nil)
            if c < 0 {
                if errno == EINTR { continue }
                return
            }
            var tv = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            if let request = Self.read(c) {
                let (status, body) = respond(request)
                Self.write(c, status: status, body: body)
            } else {
                Self.write(c, status: 400, body: Self.error(400, "bad request"))
            }
            close(c)
        }
    }

    struct Request: Equatable {
        var method: String
        var path: String
        var body: [UInt8]
    }

    /// One HTTP/1.1 request: the request line, headers up to 64 KiB, a body of Content-Length
    /// up to 1 MiB (chunked bodies are refused).
    static func read(_ fd: Int32) -> Request? {
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 16_384)
        var headerEnd: Int?
        while headerEnd == nil {
            let n = recv(fd, &buf, buf.count, 0)
            guard n > 0 else { return nil }
            data += buf[0..<n]
            if let r = find([13, 10, 13, 10], in: data) { headerEnd = r } else if data.count > 65_536 { return nil }
        }
        guard let end = headerEnd else { return nil }
        let head = String(decoding: data[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let line = head[0].split(separator: " ")
        guard line.count >= 2 else { return nil }
        var length = 0
        for h in head.dropFirst() {
            let parts = h.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            switch parts[0].lowercased() {
            case "content-length":
                guard let v = Int(parts[1]), (0...(1 << 20)).contains(v) else { return nil }
                length = v
            case "transfer-encoding":
                return nil
            default: break
            }
        }
        var body = Array(data[(end + 4)...])
        while body.count < length {
            let n = recv(fd, &buf, min(buf.count, length - body.count), 0)
            guard n > 0 else { return nil }
            body += buf[0..<n]
        }
        let path = String(line[1].split(separator: "?", maxSplits: 1)[0])
        return Request(method: String(line[0]), path: path, body: Array(body.prefix(length)))
    }

    static func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return i }
        return nil
    }

    static func error(_ status: Int, _ message: String) -> JSONValue {
        .object([("error", .string(message)), ("status", .number(Double(status)))])
    }

    /// The route and its answer: a status and a JSON body (nil: no content).
    func respond(_ r: Request) -> (Int, JSONValue?) {
        let parts = r.path.split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }
        func body() throws(ProxyServer.APIError) -> JSONValue {
            do { return try JSONValue.parse(r.body) } catch { throw ProxyServer.APIError(400, "bad request body: \(error)") }
        }
        do throws(ProxyServer.APIError) {
            switch (r.method, parts.count, parts.first) {
            case ("GET", 1, "version"):
                return (200, .object([("version", .string(FaultlineVersion.text))]))
            case ("POST", 1, "reset"):
                try server.reset()
                return (204, nil)
            case ("POST", 1, "populate"):
                let b = try body()
                // Toxiproxy takes a list, or an object holding one under "proxies".
                guard let list = b.array ?? b["proxies"]?.array else { throw ProxyServer.APIError(400, "populate needs a list of proxies") }
                return (201, .object([("proxies", .array(try server.populate(list)))]))
            case ("GET", 1, "proxies"):
                return (200, server.list())
            case ("POST", 1, "proxies"):
                let b = try body()
                guard let name = b["name"]?.string, let upstream = b["upstream"]?.string else {
                    throw ProxyServer.APIError(400, "missing required field: name and upstream")
                }
                let p = try server.create(
                    name: name, listen: b["listen"]?.string ?? "127.0.0.1:0", upstream: upstream, enabled: b["enabled"]?.bool ?? true)
                return (201, p)
            case ("GET", 2, "proxies"):
                return (200, try server.show(parts[1]))
            case ("POST", 2, "proxies"), ("PATCH", 2, "proxies"):
                let b = try body()
                return (
                    200,
                    try server.update(parts[1], enabled: b["enabled"]?.bool, listen: b["listen"]?.string, upstream: b["upstream"]?.string)
                )
            case ("DELETE", 2, "proxies"):
                try server.delete(parts[1])
                return (204, nil)
            case ("GET", 3, "proxies") where parts[2] == "toxics":
                return (200, .array(try server.toxics(parts[1])))
            case ("POST", 3, "proxies") where parts[2] == "toxics":
                return (200, try server.addToxic(parts[1], try body()))
            case ("GET", 4, "proxies") where parts[2] == "toxics":
                return (200, try server.toxic(parts[1], parts[3]))
            case ("POST", 4, "proxies") where parts[2] == "toxics", ("PATCH", 4, "proxies") where parts[2] == "toxics":
                return (200, try server.updateToxic(parts[1], parts[3], try body()))
            case ("DELETE", 4, "proxies") where parts[2] == "toxics":
                try server.removeToxic(parts[1], parts[3])
                return (204, nil)
            default:
                return (404, Self.error(404, "no such route: \(r.method) \(r.path)"))
            }
        } catch {
            return (error.status, Self.error(error.status, error.message))
        }
    }

    static func write(_ fd: Int32, status: Int, body: JSONValue?) {
        let reason =
            [200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 404: "Not Found", 409: "Conflict"][status] ?? "Error"
        let text = body.map { $0.text + "\n" } ?? ""
        var head = "HTTP/1.1 \(status) \(reason)\r\nConnection: close\r\n"
        if body != nil { head += "Content-Type: application/json\r\n" }
        head += "Content-Length: \(text.utf8.count)\r\n\r\n"
        let bytes = Array((head + text).utf8)
        var at = 0
        while at < bytes.count {
            let n = bytes.withUnsafeBufferPointer { Glibc.send(fd, $0.baseAddress! + at, bytes.count - at, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            at += n
        }
    }
}
