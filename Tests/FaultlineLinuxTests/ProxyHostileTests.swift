import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

@testable import FaultlineAgent
@testable import FaultlineLinux

/// The proxy's API as an unauthenticated client may drive it: values that overflowed, a client
/// that sends a byte at a time, updates that fail half-way, loops, wrong JSON types. Through
/// real HTTP on loopback, with the proxy checked alive and answering throughout.
@Suite("fault proxy API: hostile clients")
struct ProxyHostileTests {
    final class Fixture {
        let server: ProxyServer
        let api: ToxiproxyAPI
        let port: UInt16
        init() throws {
            server = try ProxyServer(seed: 3)
            api = try ToxiproxyAPI(server: server, listen: "127.0.0.1:0")
            port = UInt16(api.address.split(separator: ":").last ?? "") ?? 0
            api.start()
        }
        deinit {
            api.stop()
            server.stop()
        }

        /// One HTTP request over a fresh connection: the status and the body.
        func http(_ method: String, _ path: String, _ body: String = "", timeout: Double = 5) throws -> (Int, String) {
            let fd = try Loopback.connect(port, timeout: timeout)
            defer { close(fd) }
            let b = Array(body.utf8)
            Loopback.send(fd, Array("\(method) \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: \(b.count)\r\n\r\n".utf8) + b)
            return Self.answer(fd)
        }

        static func answer(_ fd: Int32) -> (Int, String) {
            var data: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 4_096)
            while true {
                let n = recv(fd, &buf, buf.count, 0)
                if n <= 0 { break }
                data += buf[0..<n]
            }
            let text = String(decoding: data, as: UTF8.self)
            let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
            return (status, text.components(separatedBy: "\r\n\r\n").dropFirst().joined())
        }
    }

    /// A round trip of 64 bytes through the proxy named `p` to an echo server succeeds.
    func alive(_ f: Fixture, _ proxyPort: UInt16) -> Bool {
        guard let fd = try? Loopback.connect(proxyPort, timeout: 2) else { return false }
        defer { close(fd) }
        Loopback.send(fd, [UInt8](repeating: 9, count: 64))
        return Loopback.receive(fd, 64).bytes.count == 64 && (try? f.http("GET", "/version").0) == 200
    }

    func proxyPort(_ body: String) -> UInt16 {
        let listen = body.components(separatedBy: "\"listen\":\"").dropFirst().first?.split(separator: "\"").first ?? ""
        return UInt16(listen.split(separator: ":").last ?? "") ?? 0
    }

    @Test("values past every attribute's bound (an Int64 overflow once killed the proxy) are 400s, and the proxy still answers")
    func overflow() throws {
        let f = try Fixture()
        let echo = try Loopback.echo()
        let (s, created) = try f.http("POST", "/proxies", #"{"name": "p", "upstream": "\#(echo.address)"}"#)
        #expect(s == 201)
        let port = proxyPort(created)
        let cases = [
            ("latency", "latency"), ("latency", "jitter"), ("timeout", "timeout"), ("slow_close", "delay"), ("reset_peer", "timeout"),
            ("slicer", "delay"), ("slicer", "average_size"), ("bandwidth", "rate"), ("limit_data", "bytes"),
        ]
        for (type, attribute) in cases {
            for value in ["9223372036855", "9223372036854775807", "1e300", "-1", "1.5"] {
                let body = #"{"type": "\#(type)", "attributes": {"\#(attribute)": \#(value)}}"#
                let (status, text) = try f.http("POST", "/proxies/p/toxics", body)
                #expect(status == 400, "\(type).\(attribute) = \(value): \(status) \(text)")
            }
            #expect(alive(f, port), "after \(type).\(attribute)")
        }
        // The largest accepted value works end to end: a toxic an hour long is added and removed.
        #expect(try f.http("POST", "/proxies/p/toxics", #"{"type": "timeout", "attributes": {"timeout": 3600000}}"#).0 == 200)
        #expect(try f.http("DELETE", "/proxies/p/toxics/timeout_downstream").0 == 204)
        #expect(alive(f, port))
    }

    @Test("a client sending a byte every 100 ms holds up nobody: 20 requests beside it answered at once, it gets 408 at 5 s")
    func slowClient() throws {
        let f = try Fixture()
        let slow = try Loopback.connect(f.port, timeout: 10)
        defer { close(slow) }
        let started = MonotonicClock.now()
        let request = Array("GET /version HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        let dribble = Thread {
            for b in request.prefix(request.count - 2) {
                if Loopback.send(slow, [b]) == false { return }
                usleep(100_000)
            }
        }
        dribble.start()
        var slowest: Int64 = 0
        for _ in 0..<20 {
            let t = MonotonicClock.now()
            #expect(try f.http("GET", "/proxies").0 == 200)
            slowest = max(slowest, MonotonicClock.now() - t)
            usleep(50_000)
        }
        // Correctness bound: a request never waits for the slow client (which needs > 3 s).
        #expect(slowest < 1_000_000_000, "a normal request took \(slowest / 1_000_000) ms")
        let (status, _) = Fixture.answer(slow)
        let at = MonotonicClock.now() - started
        #expect(status == 408 && at >= 4_900_000_000 && at < 7_000_000_000, "\(status) after \(at / 1_000_000) ms")
    }

    @Test("past 64 clients at once a new one gets 503 at once; when they go, requests are answered again")
    func manyClients() throws {
        let f = try Fixture()
        let idle = try (0..<ToxiproxyAPI.maxClients).map { _ in try Loopback.connect(f.port, timeout: 10) }
        usleep(200_000)
        let (status, _) = try f.http("GET", "/version")
        #expect(status == 503)
        for fd in idle { close(fd) }
        let until = MonotonicClock.now() + 3_000_000_000
        var ok = false
        while !ok, MonotonicClock.now() < until {
            ok = (try? f.http("GET", "/version").0) == 200
            if !ok { usleep(20_000) }
        }
        #expect(ok)
    }

    @Test("a refused update changes nothing: the proxy keeps listening and says so; a failed /reset names what it could not do")
    func transactional() throws {
        let f = try Fixture()
        let echo = try Loopback.echo()
        let (taken, takenPort) = try Loopback.listen()
        defer { close(taken) }
        let (_, a) = try f.http("POST", "/proxies", #"{"name": "a", "upstream": "\#(echo.address)"}"#)
        let port = proxyPort(a)
        let (s1, why) = try f.http("POST", "/proxies/a", #"{"listen": "127.0.0.1:\#(takenPort)"}"#)
        #expect(s1 == 409 && why.contains("Address already in use"), "\(s1) \(why)")
        #expect(alive(f, port), "the old listener was closed by a refused update")
        let (_, shown) = try f.http("GET", "/proxies/a")
        #expect(shown.contains(#""listen":"127.0.0.1:\#(port)""#) && shown.contains(#""enabled":true"#), "\(shown)")
        // Disabled, its port taken by someone else, then reset: toxics go everywhere, the
        // proxy that cannot listen is named, the others are enabled.
        _ = try f.http("POST", "/proxies", #"{"name": "b", "upstream": "\#(echo.address)"}"#)
        #expect(try f.http("POST", "/proxies/b/toxics", #"{"type": "latency", "attributes": {"latency": 10}}"#).0 == 200)
        #expect(try f.http("POST", "/proxies/a", #"{"enabled": false}"#).0 == 200)
        let (thief, _) = try Loopback.listen(port: port)
        let (s2, reset) = try f.http("POST", "/reset")
        close(thief)
        #expect(s2 == 409 && reset.contains("could not enable a"), "\(s2) \(reset)")
        #expect(try f.http("GET", "/proxies/b/toxics").1.hasPrefix("[]"))
    }

    @Test("a proxy whose upstream is its own listener, or another proxy's that leads back, is refused")
    func loops() throws {
        let f = try Fixture()
        let (s1, why) = try f.http("POST", "/proxies", #"{"name": "self", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"}"#)
        #expect(s1 == 201, "\(why)")
        let (_, x) = try f.http("POST", "/proxies", #"{"name": "x", "upstream": "127.0.0.1:1"}"#)
        let xPort = proxyPort(x)
        let (s2, selfLoop) = try f.http("POST", "/proxies/x", #"{"upstream": "127.0.0.1:\#(xPort)"}"#)
        #expect(s2 == 400 && selfLoop.contains("leads back to its own listener"), "\(selfLoop)")
        let (_, y) = try f.http("POST", "/proxies", #"{"name": "y", "upstream": "127.0.0.1:\#(xPort)"}"#)
        let (s3, chain) = try f.http("POST", "/proxies/x", #"{"upstream": "localhost:\#(proxyPort(y))"}"#)
        #expect(s3 == 400 && chain.contains("x → y → x"), "\(chain)")
        let (s4, wildcard) = try f.http(
            "POST", "/proxies", #"{"name": "w", "listen": "0.0.0.0:\#(xPort + 1)", "upstream": "127.0.0.1:\#(xPort + 1)"}"#)
        #expect(s4 == 400, "\(wildcard)")
        #expect(try f.http("GET", "/version").0 == 200)
    }

    @Test("JSON types are strict: a number for listen, a string for enabled, a list for a proxy are 400s, never defaults")
    func strictTypes() throws {
        let f = try Fixture()
        for body in [
            #"{"name": "p", "upstream": "127.0.0.1:1", "listen": 19403}"#, #"{"name": "p", "upstream": "127.0.0.1:1", "enabled": "false"}"#,
            #"{"name": 7, "upstream": "127.0.0.1:1"}"#, #"["name"]"#, #"{"name": "p", "upstream": "127.0.0.1:0"}"#,
            #"{"name": "p\u001b[2J", "upstream": "127.0.0.1:1"}"#, #"{"name": "p", "upstream": "bad host:1"}"#,
        ] {
            #expect(try f.http("POST", "/proxies", body).0 == 400, "\(body)")
        }
        #expect(try f.http("GET", "/proxies").1.hasPrefix("{}"), "nothing was created")
        // populate: all or none.
        let echo = try Loopback.echo()
        let (s, _) = try f.http(
            "POST", "/populate",
            #"[{"name": "ok", "upstream": "\#(echo.address)"}, {"name": "bad", "upstream": "127.0.0.1:1", "enabled": 1}]"#)
        #expect(s == 400)
        #expect(try f.http("GET", "/proxies").1.hasPrefix("{}"), "populate created part of a refused list")
    }

    @Test("the request parser refuses what is not one HTTP request, and never reads past its bounds")
    func parser() {
        let cases: [(String, Int)] = [
            ("GET /version HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", 413),
            ("GET /v HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
            ("get /v HTTP/1.1\r\n\r\n", 400), ("GET v HTTP/1.1\r\n\r\n", 400), ("GET /v HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
            ("GET /v HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400), ("GET /v\u{1}x HTTP/1.1\r\n\r\n", 400),
            ("GET /v HTTP/1.1\r\nno colon\r\n\r\n", 400),
        ]
        for (text, status) in cases {
            guard case .bad(let got, _) = ToxiproxyHTTP.parse(Array(text.utf8)), got == status else {
                Issue.record("\(text.debugDescription): \(ToxiproxyHTTP.parse(Array(text.utf8)))")
                continue
            }
        }
        #expect(ToxiproxyHTTP.parse(Array("GET /v HTTP/1.1\r\nContent-Length: 5\r\n\r\nab".utf8)) == .incomplete)
        let big = [UInt8](repeating: 65, count: 70_000)
        if case .bad(431, _) = ToxiproxyHTTP.parse(big) {} else { Issue.record("64 KiB of headers accepted") }
    }
}
