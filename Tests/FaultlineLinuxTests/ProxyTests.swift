import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

@testable import FaultlineAgent
@testable import FaultlineLinux

@Suite("fault proxy: every toxic on real sockets")
struct ProxyTests {
    static let ms: Int64 = 1_000_000

    final class Fixture {
        let server: ProxyServer
        init() throws { server = try ProxyServer(seed: 7) }
        deinit { server.stop() }

        /// A proxy to `upstream`; its port.
        func proxy(_ upstream: String, name: String = "p") throws -> UInt16 {
            let p = try server.create(name: name, listen: "127.0.0.1:0", upstream: upstream)
            return UInt16(p["listen"]?.string?.split(separator: ":").last ?? "") ?? 0
        }

        func toxic(_ json: String, proxy: String = "p") throws {
            _ = try server.addToxic(proxy, try JSONValue.parse(Array(json.utf8)))
        }
    }

    func now() -> Int64 { MonotonicClock.now() }

    /// The round trip of `n` bytes through an echo, nanoseconds.
    func roundTrip(_ fd: Int32, _ n: Int = 64) -> Int64? {
        let t = now()
        Loopback.send(fd, [UInt8](repeating: 7, count: n))
        let r = Loopback.receive(fd, n)
        return r.bytes.count == n ? now() - t : nil
    }

    @Test("no toxic: 8 MB through an echo arrive intact and in order")
    func passThrough() throws {
        let f = try Fixture()
        let echo = try Loopback.echo()
        let port = try f.proxy(echo.address)
        let fd = try Loopback.connect(port)
        defer { close(fd) }
        let data = (0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        let writer = Thread { Loopback.send(fd, data) }
        writer.start()
        let r = Loopback.receive(fd, data.count)
        #expect(r.bytes == data)
    }

    @Test("latency 100 ms downstream: each round trip 100 ms later, the upstream untouched; jitter spreads it")
    func latency() throws {
        let f = try Fixture()
        let echo = try Loopback.echo()
        let port = try f.proxy(echo.address)
        let fd = try Loopback.connect(port)
        defer { close(fd) }
        let base = try #require(roundTrip(fd))
        try f.toxic(#"{"type": "latency", "attributes": {"latency": 100}}"#)
        usleep(20_000)
        let slow = (0..<5).compactMap { _ in roundTrip(fd) }.sorted()
        #expect(slow.count == 5 && slow.allSatisfy { $0 >= 100 * Self.ms && $0 < 100 * Self.ms + base + 15 * Self.ms }, "\(slow)")
        try f.toxic(#"{"type": "latency", "name": "j", "attributes": {"latency": 50, "jitter": 40}}"#)
        let spread = (0..<12).compactMap { _ in roundTrip(fd) }.sorted()
        // Two latencies: 100 fixed + 50 ± 40 uniform.
        #expect(spread.allSatisfy { $0 >= 110 * Self.ms && $0 < 205 * Self.ms }, "\(spread)")
        #expect(spread.last! - spread.first! > 20 * Self.ms, "jitter spread the round trips: \(spread)")
    }

    @Test("a toxic added to and removed from a live connection acts on it at once")
    func liveChange() throws {
        let f = try Fixture()
        let echo = try Loopback.echo()
        let port = try f.proxy(echo.address)
        let fd = try Loopback.connect(port)
        defer { close(fd) }
        #expect(try #require(roundTrip(fd)) < 20 * Self.ms)
        try f.toxic(#"{"type": "latency", "stream": "upstream", "attributes": {"latency": 150}}"#)
        #expect(try #require(roundTrip(fd)) >= 150 * Self.ms)
        try f.server.removeToxic("p", "latency_upstream")
        #expect(try #require(roundTrip(fd)) < 20 * Self.ms)
        _ = try f.server.addToxic("p", try JSONValue.parse(Array(#"{"type": "latency", "attributes": {"latency": 60}}"#.utf8)))
        _ = try f.server.updateToxic("p", "latency_downstream", try JSONValue.parse(Array(#"{"attributes": {"latency": 120}}"#.utf8)))
        let t = try #require(roundTrip(fd))
        #expect(t >= 120 * Self.ms && t < 160 * Self.ms, "updated to 120 ms: \(t)")
    }

    @Test("bandwidth 500 KB/s: 500 kB take one second within 5 %")
    func bandwidth() throws {
        let f = try Fixture()
        let source = try Loopback.source(500_000)
        let port = try f.proxy(source.address)
        try f.toxic(#"{"type": "bandwidth", "attributes": {"rate": 500}}"#)
        let t = now()
        let fd = try Loopback.connect(port)
        defer { close(fd) }
        let r = Loopback.receive(fd)
        let seconds = Double(now() - t) / 1e9
        #expect(r.bytes.count == 500_000)
        #expect(abs(seconds - 1) <= 0.05, "took \(seconds) s")
    }

    @Test("slow_close 300 ms: the data arrives at once, the close 300 ms later")
    func slowClose() throws {
        let f = try Fixture()
        let source = try Loopback.source(1_000)
        let port = try f.proxy(source.address)
        try f.toxic(#"{"type": "slow_close", "attributes": {"delay": 300}}"#)
        let t = now()
        let fd = try Loopback.connect(port)
        defer { close(fd) }
        let first = Loopback.receive(fd, 1_000)
        let dataAt = now() - t
        let eof = Loopback.receive(fd)
        let closeAt = now() - t
        #expect(first.bytes.count == 1_000 && dataAt < 100 * Self.ms, "data after \(dataAt)")
        #expect(eof.bytes.isEmpty && eof.end == 0 && closeAt >= 300 * Self.ms && closeAt < 400 * Self.ms, "close after \(closeAt)")
    }

    @Test("timeout 300 ms: nothing gets through and the connection closes at 300 ms; timeout 0 holds it open, silent")
    func timeout() throws {
        let f = try Fixture()
        let echo = try Loopback.echo()
        let port = try f.proxy(echo.address)
        try f.toxic(#"{"type": "timeout", "attributes": {"timeout": 300}}"#)
        let t = now()
        let fd = try Loopback.connect(port)
        defer { close(fd) }
        Loopback.send(fd, [1, 2, 3])
        let r = Loopback.receive(fd)
        let closedAt = now() - t
        #expect(r.bytes.isEmpty, "no data through a timeout")
        #expect(closedAt >= 300 * Self.ms && closedAt < 400 * Self.ms, "closed after \(closedAt)")
        // timeout 0: silent until the toxic goes, then the link works again.
        try f.server.removeToxic("p", "timeout_downstream")
        try f.toxic(#"{"type": "timeout", "attributes": {"timeout": 0}}"#)
        let g = try Loopback.connect(port, timeout: 0.5)
        defer { close(g) }
        Loopback.send(g, [9])
        let silent = Loopback.receive(g, 1)
        #expect(silent.bytes.isEmpty && silent.end == EAGAIN, "still open and silent after 0.5 s")
        try f.server.removeToxic("p", "timeout_downstream")
        Loopback.send(g, [8])
        #expect(Loopback.receive(g, 1).bytes == [8], "the echo flows again once the toxic is removed")
    }

    @Test("reset_peer 200 ms: the client's connection is reset by peer after 200 ms")
    func resetPeer() throws {
        let f = try Fixture()
        let echo = try Loopback.echo()
        let port = try f.proxy(echo.address)
        try f.toxic(#"{"type": "reset_peer", "attributes": {"timeout": 200}}"#)
        let t = now()
        let fd = try Loopback.connect(port)
        defer { close(fd) }
        Loopback.send(fd, [1])
        #expect(Loopback.receive(fd, 1).bytes == [1], "data flows until the reset")
        let r = Loopback.receive(fd)
        let at = now() - t
        #expect(r.end == ECONNRESET, "ended with errno \(r.end)")
        #expect(at >= 200 * Self.ms && at < 300 * Self.ms, "reset after \(at)")
    }

    @Test("slicer 10 ± 0 bytes, 10 ms apart: a 200-byte answer arrives in 10-byte pieces over 190 ms")
    func slicer() throws {
        let f = try Fixture()
        let source = try Loopback.source(200)
        let port = try f.proxy(source.address)
        try f.toxic(#"{"type": "slicer", "attributes": {"average_size": 10, "size_variation": 0, "delay": 10000}}"#)
        let t = now()
        let fd = try Loopback.connect(port)
        defer { close(fd) }
        let r = Loopback.receive(fd)
        let took = now() - t
        #expect(r.bytes == (0..<200).map { UInt8($0 % 251) })
        // A reader descheduled for 10 ms on a busy machine finds two pieces at once: the median
        // read, not the largest, is the proxy's doing.
        let median = r.reads.sorted()[r.reads.count / 2]
        #expect(median == 10 && r.reads.count >= 10, "\(r.reads.count) reads, median \(median): \(r.reads)")
        #expect(took >= 190 * Self.ms, "20 pieces 10 ms apart: \(took)")
    }

    @Test("limit_data 1000 bytes: exactly 1000 of 10,000 arrive, then the connection closes")
    func limitData() throws {
        let f = try Fixture()
        let source = try Loopback.source(10_000)
        let port = try f.proxy(source.address)
        try f.toxic(#"{"type": "limit_data", "attributes": {"bytes": 1000}}"#)
        let fd = try Loopback.connect(port)
        defer { close(fd) }
        let r = Loopback.receive(fd)
        #expect(r.bytes == (0..<1000).map { UInt8($0 % 251) } && r.end == 0)
    }

    @Test("down: a disabled proxy refuses connections and closes the open ones; enabled, it answers again")
    func down() throws {
        let f = try Fixture()
        let echo = try Loopback.echo()
        let port = try f.proxy(echo.address)
        let open = try Loopback.connect(port)
        defer { close(open) }
        #expect(roundTrip(open) != nil)
        let p = try f.server.update("p", enabled: false, listen: nil, upstream: nil)
        #expect(p["enabled"] == .bool(false))
        let r = Loopback.receive(open)
        #expect(r.bytes.isEmpty && r.end == 0, "the open connection was closed")
        #expect(throws: Loopback.Refused.self) { try Loopback.connect(port) }
        _ = try f.server.update("p", enabled: true, listen: nil, upstream: nil)
        let again = try Loopback.connect(port)
        defer { close(again) }
        #expect(roundTrip(again) != nil)
    }

    @Test("toxicity: 0 never acts, 1 always; 50 % acts on a share of 200 connections inside the 99 % binomial interval")
    func toxicity() throws {
        let f = try Fixture()
        let source = try Loopback.source(10)
        let port = try f.proxy(source.address)
        try f.toxic(#"{"type": "limit_data", "toxicity": 0.5, "attributes": {"bytes": 5}}"#)
        var limited = 0
        for _ in 0..<200 {
            let fd = try Loopback.connect(port)
            if Loopback.receive(fd).bytes.count == 5 { limited += 1 }
            close(fd)
        }
        // n = 200, p = 0.5: 99 % of outcomes within 100 ± 18.
        #expect((82...118).contains(limited), "\(limited) of 200 limited")
        _ = try f.server.updateToxic("p", "limit_data_downstream", try JSONValue.parse(Array(#"{"toxicity": 0}"#.utf8)))
        let fd = try Loopback.connect(port)
        defer { close(fd) }
        #expect(Loopback.receive(fd).bytes.count == 10)
    }

    @Test("refusals: unknown toxic type, attribute, stream; negative values; toxicity out of range; duplicates; missing proxy")
    func refusals() throws {
        let f = try Fixture()
        let echo = try Loopback.echo()
        _ = try f.proxy(echo.address)
        func status(_ json: String) -> Int? {
            do {
                try f.toxic(json)
                return nil
            } catch let e as ProxyServer.APIError {
                return e.status
            } catch {
                return -1
            }
        }
        #expect(status(#"{"type": "lag"}"#) == 400)
        #expect(status(#"{"type": "latency", "attributes": {"delay": 5}}"#) == 400)
        #expect(status(#"{"type": "latency", "stream": "sideways"}"#) == 400)
        #expect(status(#"{"type": "latency", "attributes": {"latency": -5}}"#) == 400)
        #expect(status(#"{"type": "latency", "attributes": {"latency": 1.5}}"#) == 400)
        #expect(status(#"{"type": "latency", "toxicity": 2}"#) == 400)
        #expect(status(#"{"type": "bandwidth", "attributes": {"rate": 0}}"#) == 400)
        #expect(status(#"{"type": "latency"}"#) == nil)
        #expect(status(#"{"type": "latency"}"#) == 409)
        #expect(throws: ProxyServer.APIError(409, "proxy already exists")) { _ = try f.proxy(echo.address) }
        #expect(throws: ProxyServer.APIError(404, "proxy not found")) { _ = try f.server.toxics("nope") }
        #expect(throws: ProxyServer.APIError(404, "toxic not found")) { try f.server.removeToxic("p", "nope") }
    }
}
