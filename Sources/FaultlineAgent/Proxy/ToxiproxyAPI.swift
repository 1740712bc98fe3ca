import FaultlineEssentials
import FoundationEssentials
import Glibc

/// Toxiproxy's HTTP control API over a `ProxyServer`, so that existing Toxiproxy clients and
/// the test suites built on them drive faultline's proxy unchanged: `/proxies`, `/populate`,
/// `/reset`, `/version`, and each proxy's `/toxics`, with Toxiproxy's status codes and JSON.
///
/// The API has no authentication, so it is built for clients that misbehave: each connection
/// has a thread of its own (up to `maxClients` at once; past that, 503 at once) and one request,
/// which must arrive whole within `requestDeadline` — a client sending a byte a second is cut
/// off (408) without holding up anyone else.
public final class ToxiproxyAPI: @unchecked Sendable {
    public let server: ProxyServer
    private let listener: Int32
    /// The address it listens on (with the port the kernel chose for `:0`).
    public let address: String
    private let stopping = Locked(false)
    private let active = Locked(0)
    package static let maxClients = 64
    static let requestDeadline: Int64 = 5_000_000_000

    public init(server: ProxyServer, listen: String) throws(ProxyServer.APIError) {
        self.server = server
        let (fd, bound) = try ProxyServer.listen(listen)
        // Blocking accepts on this thread; the loop's listeners are the non-blocking ones.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        listener = fd
        address = ProxyServer.text(bound)
    }

    public func start() {
        let t = PThread { [self] in serve() }
        t.name = "toxiproxy api"
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
            if c >= 0 { _ = fcntl(c, F_SETFD, FD_CLOEXEC) }
            if c < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if errno == EMFILE || errno == ENFILE {
                    usleep(10_000)
                    continue
                }
                return
            }
            let admitted = active.mutate { n -> Bool in
                guard n < Self.maxClients else { return false }
                n += 1
                return true
            }
            guard admitted else {
                Self.send(c, ToxiproxyHTTP.response(status: 503, body: Self.error(503, "too many API clients at once")))
                close(c)
                continue
            }
            let t = PThread { [self] in
                answer(c)
                close(c)
                active.mutate { $0 -= 1 }
            }
            t.stackSize = 512 << 10
            t.start()
        }
    }

    /// Reads one request within the deadline and answers it.
    private func answer(_ c: Int32) {
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let deadline = MonotonicClock.now() + Self.requestDeadline
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 16_384)
        while true {
            switch ToxiproxyHTTP.parse(data, searchedTo: max(0, data.count - buf.count)) {
            case .request(let r):
                let (status, body) = respond(r)
                Self.send(c, ToxiproxyHTTP.response(status: status, body: body))
                return
            case .bad(let status, let why):
                Self.send(c, ToxiproxyHTTP.response(status: status, body: Self.error(status, why)))
                return
            case .incomplete: break
            }
            let left = deadline - MonotonicClock.now()
            var p = pollfd(fd: c, events: Int16(POLLIN), revents: 0)
            guard left > 0, poll(&p, 1, Int32(max(1, left / 1_000_000))) > 0 else {
                Self.send(c, ToxiproxyHTTP.response(status: 408, body: Self.error(408, "the request did not arrive within 5s")))
                return
            }
            let n = recv(c, &buf, buf.count, 0)
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return }
            data += buf[0..<n]
        }
    }

    static func error(_ status: Int, _ message: String) -> JSONValue {
        .object([("error", .string(message)), ("status", .number(Double(status)))])
    }

    /// The route and its answer: a status and a JSON body (nil: no content).
    package func respond(_ r: ToxiproxyHTTP.Request) -> (Int, JSONValue?) {
        let parts = ToxiproxyHTTP.segments(r.path)
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
                let f = try ProxyServer.proxyFields(try body())
                return (201, try server.create(name: f.name, listen: f.listen, upstream: f.upstream, enabled: f.enabled))
            case ("GET", 2, "proxies"):
                return (200, try server.show(parts[1]))
            case ("POST", 2, "proxies"), ("PATCH", 2, "proxies"):
                let b = try body()
                guard b.pairs != nil else { throw ProxyServer.APIError(400, "a proxy update must be a JSON object") }
                return (
                    200,
                    try server.update(
                        parts[1], enabled: try ProxyServer.bool(b, "enabled"), listen: try ProxyServer.string(b, "listen"),
                        upstream: try ProxyServer.string(b, "upstream"))
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
                return (404, Self.error(404, "no such route: \(ShownText.escaped(r.method)) \(ShownText.escaped(r.path))"))
            }
        } catch {
            return (error.status, Self.error(error.status, error.message))
        }
    }

    static func send(_ fd: Int32, _ bytes: [UInt8]) {
        var at = 0
        while at < bytes.count {
            let n = bytes.withUnsafeBufferPointer { Glibc.send(fd, $0.baseAddress! + at, bytes.count - at, Int32(MSG_NOSIGNAL)) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return }
            at += n
        }
    }
}
