import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

@testable import FaultlineAgent
@testable import FaultlineLinux

/// Two network namespaces of the test's own, joined by a veth pair: `a` (198.18.230.1) sends,
/// `b` (198.18.230.2) echoes UDP. Removed when released.
final class NamespacePair: @unchecked Sendable {
    let a: String
    let b: String
    static let addressA = "198.18.230.1"
    static let addressB = "198.18.230.2"
    private var echo: Int32 = -1
    private var echoThread: Thread?

    init() throws {
        let tag = String(UInt32.random(in: 0...0xFFFFF), radix: 16)
        a = "flq\(tag)a"
        b = "flq\(tag)b"
        for args in [
            ["netns", "add", a], ["netns", "add", b],
            ["link", "add", "v\(tag)a", "netns", a, "type", "veth", "peer", "name", "v\(tag)b", "netns", b],
            ["-n", a, "addr", "add", "\(Self.addressA)/24", "dev", "v\(tag)a"],
            ["-n", b, "addr", "add", "\(Self.addressB)/24", "dev", "v\(tag)b"],
            ["-n", a, "link", "set", "v\(tag)a", "up"], ["-n", b, "link", "set", "v\(tag)b", "up"], ["-n", a, "link", "set", "lo", "up"],
            ["-n", b, "link", "set", "lo", "up"],
        ] {
            let r = Spawner.run(.argv(["ip"] + args), timeout: 10_000_000_000)
            guard r.status == 0 else {
                cleanup()
                throw TestFailure("ip \(args.joined(separator: " ")): \(r.output)")
            }
        }
    }

    deinit {
        if echo >= 0 { shutdown(echo, Int32(SHUT_RDWR)) }
        cleanup()
    }

    private func cleanup() {
        for ns in [a, b] { _ = Spawner.run(.argv(["ip", "netns", "del", ns]), timeout: 10_000_000_000) }
    }

    func path(_ ns: String) -> String { "/run/netns/\(ns)" }

    /// A UDP socket bound in `ns` to `address:port`.
    func udp(in ns: String, _ address: String, _ port: UInt16) throws -> Int32 {
        try NetworkNamespace.run(path(ns)) {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = port.bigEndian
            sa.sin_addr.s_addr = inet_addr(address)
            let rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(16)) } }
            guard fd >= 0, rc == 0 else { throw TestFailure("bind \(address):\(port): \(String(cString: strerror(errno)))") }
            return fd
        }
    }

    /// Starts echoing every datagram `b` receives on port 7.
    func startEcho() throws {
        echo = try udp(in: b, Self.addressB, 7)
        let fd = echo
        let t = Thread {
            // Part of the measuring apparatus: as precise as the delay line it measures.
            _ = promoteToRealtime()
            var buf = [UInt8](repeating: 0, count: 2048)
            var from = sockaddr_in()
            var len = socklen_t(16)
            while true {
                let n = withUnsafeMutablePointer(to: &from) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buf, buf.count, 0, $0, &len) }
                }
                if n <= 0 { return }
                _ = withUnsafePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, buf, n, 0, $0, len) } }
            }
        }
        t.start()
        echoThread = t
    }

    /// A TCP socket in `ns`: listening on `address:port`, or (port 0) unbound.
    func tcp(in ns: String, listen address: String, _ port: UInt16) throws -> Int32 {
        try NetworkNamespace.run(path(ns)) {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, 4)
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = port.bigEndian
            sa.sin_addr.s_addr = inet_addr(address)
            let rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(16)) } }
            guard fd >= 0, rc == 0, listen(fd, 4) == 0 else { throw TestFailure("listen \(address):\(port)") }
            return fd
        }
    }

    /// Sends TCP data from `a` to a sink in `b` for `seconds`; the receiving side's throughput in
    /// bits per second over the part after `skip` seconds (slow start and the bucket's burst out).
    /// TCP from `a` to `b` for `seconds`; the receiver's goodput after `skip`, bit/s. `onSkip` runs
    /// when the window opens and `onEnd` when the sender stops (its buffer still full, so the
    /// link is still saturated): a shaper's counters read in those two are its rate.
    func throughput(
        seconds: Double, skip: Double, onSkip: @escaping @Sendable () -> Void = {}, onEnd: () -> Void = {}
    ) throws -> Double {
        let server = try tcp(in: b, listen: Self.addressB, 5001)
        defer { close(server) }
        let window = Locked((bytes: 0, first: Int64(0), last: Int64(0)))
        let start = MonotonicClock.now()
        let sink = Thread {
            let c = accept(server, nil, nil)
            guard c >= 0 else { return }
            defer { close(c) }
            var buf = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = recv(c, &buf, buf.count, 0)
                if n <= 0 { return }
                let now = MonotonicClock.now()
                if Double(now - start) / 1e9 >= skip {
                    let first = window.mutate { w -> Bool in
                        let first = w.first == 0
                        if first { w.first = now } else { w.bytes += n }
                        w.last = now
                        return first
                    }
                    if first { onSkip() }
                }
            }
        }
        sink.start()
        let client = try NetworkNamespace.run(path(a)) { socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }
        var to = sockaddr_in()
        to.sin_family = sa_family_t(AF_INET)
        to.sin_port = UInt16(5001).bigEndian
        to.sin_addr.s_addr = inet_addr(Self.addressB)
        let rc = withUnsafePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(16)) } }
        guard rc == 0 else { throw TestFailure("connect: \(String(cString: strerror(errno)))") }
        let chunk = [UInt8](repeating: 0x5a, count: 16_384)
        while Double(MonotonicClock.now() - start) / 1e9 < seconds { _ = send(client, chunk, chunk.count, Int32(MSG_NOSIGNAL)) }
        onEnd()
        close(client)
        while !sink.isFinished { usleep(10_000) }
        let w = window.value
        return Double(w.bytes) * 8 / (Double(w.last - w.first) / 1e9)
    }

    /// Sends `count` datagrams from `a` to `b`'s echo, one every `gap` ns, and returns the round
    /// trip of each that came back (nil for one that did not within `wait` after the last send).
    func roundTrips(_ count: Int, gap: Nanos = 1_000_000, wait: Nanos = 500_000_000) throws -> [Nanos?] {
        let fd = try udp(in: a, Self.addressA, 0)
        defer { close(fd) }
        var to = sockaddr_in()
        to.sin_family = sa_family_t(AF_INET)
        to.sin_port = UInt16(7).bigEndian
        to.sin_addr.s_addr = inet_addr(Self.addressB)
        var back = [Nanos?](repeating: nil, count: count)
        let results = Locked(back)
        let reader = Thread {
            // The measuring side runs as precisely as the delay line does, or its own wake-ups
            // on a busy machine would be counted as the engine's error.
            _ = promoteToRealtime()
            var buf = [UInt8](repeating: 0, count: 64)
            var tv = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var quietSince: Int64?
            while true {
                let n = recv(fd, &buf, buf.count, 0)
                let now = MonotonicClock.now()
                if n >= 12 {
                    quietSince = nil
                    let i = Int(buf[0]) | Int(buf[1]) << 8 | Int(buf[2]) << 16
                    var t: Int64 = 0
                    withUnsafeMutableBytes(of: &t) { $0.copyBytes(from: buf[4..<12]) }
                    if i < count { results.mutate { $0[i] = now - t } }
                } else {
                    if let q = quietSince, now - q > wait { return }
                    if quietSince == nil { quietSince = now }
                }
            }
        }
        reader.start()
        // The sender too: a send preempted between its timestamp and sendto would count as delay.
        let destination = to
        let sender = Thread {
            _ = promoteToRealtime()
            var to = destination
            var next = MonotonicClock.now()
            for i in 0..<count {
                MonotonicClock.sleep(until: next)
                var payload = [UInt8](repeating: 0, count: 12)
                payload[0] = UInt8(i & 0xff)
                payload[1] = UInt8((i >> 8) & 0xff)
                payload[2] = UInt8(i >> 16)
                var t = MonotonicClock.now()
                withUnsafeBytes(of: &t) { for k in 0..<8 { payload[4 + k] = $0[k] } }
                _ = withUnsafePointer(to: &to) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, payload, 12, 0, $0, socklen_t(16)) }
                }
                next += gap
            }
        }
        sender.start()
        while !sender.isFinished { usleep(1_000) }
        // Wait for the reader to see `wait` of silence after the last echo.
        while !reader.isFinished { usleep(10_000) }
        back = results.value
        return back
    }
}

@Suite("queue engine on this kernel", .serialized)
struct NetworkQueueTests {
    static let ms: Nanos = 1_000_000

    func engine(_ pair: NamespacePair, _ shaping: Shaping, table: String = "faultline_test_q") throws -> NetworkQueueEngine {
        let peer = IPv4Subnet("\(NamespacePair.addressB)/32")
        return try NetworkNamespace.run(pair.path(pair.a)) {
            try NetworkQueueEngine(
                tableName: table, rules: { [NftQueueTable.Rule(hook: .output, peer: peer, proto: 17, port: 7, action: $0)] },
                shaping: shaping,
                queueBase: UInt16.random(in: 1_000...60_000), seed: 42)
        }
    }

    /// CPU time the hypervisor took from this machine so far (all CPUs, in clock ticks: the
    /// `steal` column of /proc/stat): a delay line starved by it is late by its own account.
    static func stealTicks() -> Int {
        let line = ((try? String(contentsOfFile: "/proc/stat", encoding: .utf8)) ?? "").split(separator: "\n").first ?? ""
        let fields = line.split(separator: " ")
        return fields.count > 8 ? Int(fields[8]) ?? 0 : 0
    }

    func sorted(_ xs: [Nanos?]) -> [Nanos] { xs.compactMap { $0 }.sorted() }
    func quantile(_ s: [Nanos], _ q: Double) -> Nanos { s[min(s.count - 1, Int(Double(s.count) * q))] }

    @Test("50 ms of delay: added median within 1 ms beyond the engine's own lateness, p99 under +15 ms, 1,000 packets")
    func delay() throws {
        let pair = try NamespacePair()
        try pair.startEcho()
        let base = sorted(try pair.roundTrips(200))
        var s = Shaping()
        s.delay = 50 * Self.ms
        let e = try engine(pair, s)
        let stolen = Self.stealTicks()
        let delayed = sorted(try pair.roundTrips(1_000))
        let steal = Self.stealTicks() - stolen
        let stats = e.stop()
        let baseMedian = quantile(base, 0.5)
        let median = quantile(delayed, 0.5) - baseMedian
        let p99 = quantile(delayed, 0.99) - baseMedian
        print(
            "delay: base median \(DurationText.format(baseMedian)), added median \(DurationText.format(median)), p99 \(DurationText.format(p99)), realtime \(stats.realtime), late \(stats.late), lateness p99 \(DurationText.format(quantile(stats.lateness.sorted(), 0.99)))"
        )
        #expect(delayed.count == 1_000, "every packet came back")
        // Within 1 ms of the delay asked, beyond what the engine itself measured of its own
        // lateness (release minus due, per packet): a starved engine says so in its stats (once,
        // sharing two cores with the lab suites: 195 of 1,000 packets late, +1.15 ms at the
        // median), and a delay line that released at the wrong time without noticing still fails.
        let ownLateness = quantile(stats.lateness.sorted(), 0.5)
        #expect(
            abs(median - 50 * Self.ms) <= Self.ms + max(0, ownLateness),
            "median added \(DurationText.format(median)), the engine's own median lateness \(DurationText.format(ownLateness)), \(steal) ticks of CPU stolen from this VM meanwhile"
        )
        // A bound on correctness, not on speed: a delay line that added its delay twice, or
        // released packets a round of its timer late, would break it. How tight the tail is, is the benchmark's
        // (bench/queue-engine.sh, BENCHMARKS.md: p99 error 1.1 ms at 10k packets/s): here it
        // shares two cores with the other suites, and was once starved to +61.9 ms at p99 (136
        // packets late by its own account), where quiet runs give +50.2 ms.
        #expect(p99 <= 65 * Self.ms, "p99 added \(DurationText.format(p99)), \(steal) ticks stolen")
        #expect(stats.received == 1_000 && stats.overflows == 0)
        // After the stop nothing is delayed any more.
        let after = sorted(try pair.roundTrips(100))
        #expect(quantile(after, 0.5) < 5 * Self.ms)
    }

    @Test("stopping the engine while packets stream through it loses none: held ones and unread ones are passed")
    func stopMidStream() throws {
        let pair = try NamespacePair()
        try pair.startEcho()
        var s = Shaping()
        s.delay = 20 * Self.ms
        let e = try engine(pair, s)
        let stopper = Thread {
            usleep(150_000)
            _ = e.stop()
        }
        stopper.start()
        // 3,000 datagrams 100 µs apart: the stop lands in the middle of the stream.
        let back = try pair.roundTrips(3_000, gap: 100_000)
        let lost = back.filter { $0 == nil }.count
        #expect(lost == 0, "\(lost) of 3,000 lost across the stop")
    }

    @Test("50 ± 10 ms normal jitter: the standard deviation of the added delay within 20 % of 10 ms, over 1,000 packets")
    func jitter() throws {
        let pair = try NamespacePair()
        try pair.startEcho()
        let base = quantile(sorted(try pair.roundTrips(200)), 0.5)
        var s = Shaping()
        s.delay = 50 * Self.ms
        s.jitter = 10 * Self.ms
        s.distribution = .normal
        let e = try engine(pair, s)
        let added = sorted(try pair.roundTrips(1_000, wait: 800 * Self.ms)).map { Double($0 - base) }
        _ = e.stop()
        let mean = added.reduce(0, +) / Double(added.count)
        let sd = (added.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(added.count - 1)).squareRoot()
        print("jitter: mean \(DurationText.format(Nanos(mean))), standard deviation \(DurationText.format(Nanos(sd))) over \(added.count)")
        #expect(added.count == 1_000)
        #expect(abs(sd - 10e6) <= 2e6, "standard deviation \(DurationText.format(Nanos(sd)))")
        #expect(abs(mean - 50e6) <= 2e6, "mean \(DurationText.format(Nanos(mean)))")
    }

    /// The central 99 % interval of Binomial(n, p): the counts with at most 0.5 % below and above.
    func binomial99(_ n: Int, _ p: Double) -> ClosedRange<Int> {
        var pmf = [Double](repeating: 0, count: n + 1)
        var logFactorial = [0.0]
        for k in 1...n { logFactorial.append(logFactorial[k - 1] + log(Double(k))) }
        for k in 0...n {
            let ways = logFactorial[n] - logFactorial[k] - logFactorial[n - k]
            let odds: Double = Double(k) * log(p) + Double(n - k) * log(1 - p)
            pmf[k] = exp(ways + odds)
        }
        var low = 0
        var sum = 0.0
        while sum + pmf[low] <= 0.005 {
            sum += pmf[low]
            low += 1
        }
        var high = n
        sum = 0
        while sum + pmf[high] <= 0.005 {
            sum += pmf[high]
            high -= 1
        }
        return low...high
    }

    @Test(
        "20 % egress loss, without and with correlation, through the delay line: inside the 99 % binomial interval over 2,000 packets"
    )
    func loss() throws {
        let pair = try NamespacePair()
        try pair.startEcho()
        let interval = binomial99(2_000, 0.2)
        for correlation in [0.0, 0.25] {
            var s = Shaping()
            s.loss = .random(p: 0.2, correlation: correlation)
            let e = try engine(pair, s, table: "faultline_test_loss")
            let back = try pair.roundTrips(2_000, gap: 250_000, wait: 300 * Self.ms)
            let stats = e.stop()
            let lost = back.filter { $0 == nil }.count
            print(
                "loss (correlation \(correlation)): \(lost) of 2000 lost; 99 % interval \(interval); delay line: \(stats.dropped) dropped"
            )
            #expect(interval.contains(lost), "\(lost) of 2,000 lost with correlation \(correlation)")
            #expect(stats.dropped == lost, "the delay line dropped what was lost")
        }
    }

    /// The queue engine for 20 % loss on `a`'s egress toward `b` (any protocol), as the network
    /// driver makes it (`Shaping.needsDelayLine`: loss goes through the delay line).
    func egressLoss(_ pair: NamespacePair, correlation: Double) throws -> NetworkQueueEngine {
        var s = Shaping()
        s.loss = .random(p: 0.2, correlation: correlation)
        var f = PacketFilter()
        f.direction = .egress
        let w = NetworkWork(
            host: "a", device: "-", peers: [], filter: f, shaping: s, engine: .queue, table: "faultline_test_eloss", ifb: "-", queueBase: 0,
            seed: 7)
        #expect(w.shaping.needsDelayLine, "egress loss goes through the delay line")
        let peer = IPv4Subnet("\(NamespacePair.addressB)/32")
        return try NetworkNamespace.run(pair.path(pair.a)) {
            try NetworkQueueEngine(
                tableName: w.table, rules: { [NftQueueTable.Rule(hook: .output, peer: peer, proto: nil, port: nil, action: $0)] },
                shaping: s, queueBase: UInt16.random(in: 1_000...60_000), seed: 42)
        }
    }

    @Test("20 % egress loss, without and with correlation: no UDP or TCP send fails on the faulted host, and the receiver counts the loss")
    func silentLoss() throws {
        let pair = try NamespacePair()
        let interval = binomial99(3_000, 0.2)
        for correlation in [0.0, 0.25] {
            let e = try egressLoss(pair, correlation: correlation)
            // UDP: 3,000 datagrams from a to a receiver in b; a send that fails is a defect (a
            // drop in the output hook made 645 of them fail with EPERM).
            let receiver = try pair.udp(in: pair.b, NamespacePair.addressB, 9_001)
            var tv = timeval(tv_sec: 0, tv_usec: 300_000)
            setsockopt(receiver, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            let got = Locked(0)
            let reader = Thread {
                var buf = [UInt8](repeating: 0, count: 64)
                while recv(receiver, &buf, buf.count, 0) > 0 { got.mutate { $0 += 1 } }
            }
            reader.start()
            let sender = try pair.udp(in: pair.a, NamespacePair.addressA, 0)
            var to = sockaddr_in()
            to.sin_family = sa_family_t(AF_INET)
            to.sin_port = UInt16(9_001).bigEndian
            to.sin_addr.s_addr = inet_addr(NamespacePair.addressB)
            var failed = 0
            for _ in 0..<3_000 {
                let n = withUnsafePointer(to: &to) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(sender, "x", 1, 0, $0, 16) }
                }
                if n != 1 { failed += 1 }
                usleep(200)
            }
            while !reader.isFinished { usleep(10_000) }
            close(sender)
            close(receiver)
            let lost = 3_000 - got.value
            // TCP: 2 MB from a to b; every send succeeds and every byte arrives (TCP resends
            // what the wire lost), and the sender's kernel counts the resent segments.
            let retransBefore = try retransmitted(pair)
            // A port of its own each round: the last round's connection may still be closing.
            let (tcpFailures, tcpBytes) = try tcpTransfer(pair, bytes: 2 << 20, port: correlation == 0 ? 5_002 : 5_003)
            let retrans = try retransmitted(pair) - retransBefore
            let stats = e.stop()
            print(
                "egress loss (correlation \(correlation)): UDP \(lost) of 3000 lost (99 % interval \(interval)), \(failed) sends failed; TCP \(tcpBytes) bytes, \(tcpFailures) sends failed, \(retrans) segments resent; delay line dropped \(stats.dropped) of \(stats.received)"
            )
            #expect(failed == 0, "\(failed) UDP sends failed")
            #expect(interval.contains(lost), "\(lost) of 3,000 lost")
            #expect(tcpFailures == 0 && tcpBytes == 2 << 20, "TCP: \(tcpFailures) sends failed, \(tcpBytes) bytes arrived")
            #expect(retrans > 0, "no TCP segment was resent: nothing was lost")
        }
    }

    /// Segments `a`'s kernel has resent (RetransSegs of /proc/net/snmp, read in `a`).
    func retransmitted(_ pair: NamespacePair) throws -> Int {
        try NetworkNamespace.run(pair.path(pair.a)) {
            let text = (try? String(contentsOfFile: "/proc/thread-self/net/snmp", encoding: .utf8)) ?? ""
            let tcp = text.split(separator: "\n").filter { $0.hasPrefix("Tcp:") }
            guard tcp.count == 2 else { throw TestFailure("no Tcp lines in snmp") }
            let names = tcp[0].split(separator: " ")
            let values = tcp[1].split(separator: " ")
            guard let i = names.firstIndex(of: "RetransSegs"), let v = Int(values[i]) else { throw TestFailure("no RetransSegs") }
            return v
        }
    }

    /// `bytes` over TCP from `a` to a sink in `b`: the sends that failed, and what arrived.
    func tcpTransfer(_ pair: NamespacePair, bytes: Int, port: UInt16) throws -> (failures: Int, received: Int) {
        let server = try pair.tcp(in: pair.b, listen: NamespacePair.addressB, port)
        defer { close(server) }
        let received = Locked(0)
        let sink = Thread {
            let c = accept(server, nil, nil)
            guard c >= 0 else { return }
            defer { close(c) }
            var buf = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = recv(c, &buf, buf.count, 0)
                if n <= 0 { return }
                received.mutate { $0 += n }
            }
        }
        sink.start()
        let client = try NetworkNamespace.run(pair.path(pair.a)) { socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }
        var to = sockaddr_in()
        to.sin_family = sa_family_t(AF_INET)
        to.sin_port = port.bigEndian
        to.sin_addr.s_addr = inet_addr(NamespacePair.addressB)
        let rc = withUnsafePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(16)) } }
        guard rc == 0 else { throw TestFailure("connect: \(String(cString: strerror(errno)))") }
        var failures = 0
        var sent = 0
        let chunk = [UInt8](repeating: 0x5a, count: 16_384)
        while sent < bytes {
            let n = send(client, chunk, min(chunk.count, bytes - sent), Int32(MSG_NOSIGNAL))
            if n <= 0 {
                failures += 1
                if failures > 10 { break }
                continue
            }
            sent += n
        }
        shutdown(client, Int32(SHUT_WR))
        let until = MonotonicClock.now() + 30_000_000_000
        while !sink.isFinished, MonotonicClock.now() < until { usleep(10_000) }
        close(client)
        return (failures, received.value)
    }

    @Test("10 Mbit/s: TCP throughput within ±5 %, for every peer and for one peer by address; nothing is left after")
    func rate() throws {
        for filtered in [false, true] {
            let pair = try NamespacePair()
            let device = "v\(pair.a.dropFirst(3).dropLast())a"
            let keys = filtered ? [U32Key(value: IPv4Address(NamespacePair.addressB)?.value ?? 0, mask: 0xFFFF_FFFF, offset: 16)] : []
            try NetworkNamespace.run(pair.path(pair.a)) {
                try TrafficControl().addRateLimit(device: device, rate: 10_000_000 / 8, burst: 12_500, filters: [keys])
            }
            // The shaper counts frames (headers included): its own byte counter over the window is
            // the rate it enforced; the receiver's goodput is lower by the headers (~4.4 %).
            let marks = Locked([(Int64, UInt64)]())
            let path = pair.path(pair.a)
            let sample: @Sendable () -> Void = {
                let bytes = (try? NetworkNamespace.run(path) { try TrafficControl().sentBytes(device: device, class: 1) }) ?? 0
                marks.mutate { $0.append((MonotonicClock.now(), bytes)) }
            }
            let goodput = try pair.throughput(seconds: 3, skip: 1, onSkip: sample, onEnd: sample)
            let m = marks.value
            let wire = m.count == 2 ? Double(m[1].1 - m[0].1) * 8 / (Double(m[1].0 - m[0].0) / 1e9) : 0
            print(
                "rate (\(filtered ? "to one peer" : "every peer")): shaper sent \(Int(wire / 1e3)) kbit/s, goodput \(Int(goodput / 1e3)) kbit/s, for 10000 asked"
            )
            #expect(abs(wire - 10e6) / 10e6 <= 0.05, "the shaper sent \(wire) bit/s")
            #expect(goodput <= wire && goodput >= 0.9 * wire, "goodput \(goodput) of \(wire)")
            try NetworkNamespace.run(pair.path(pair.a)) {
                let tc = try TrafficControl()
                try tc.deleteQdisc(device: device, parent: TrafficControl.root, handle: TrafficControl.handle(TrafficControl.major, 0))
                #expect(try tc.qdiscs(device).allSatisfy { $0.handle >> 16 == 0 }, "only the kernel's default qdisc is left")
            }
        }
    }
}

/// The netem engine against the real qdisc: only where the kernel has sch_netem (this project's
/// CI kernel has not; there the netlink request is checked byte by byte instead, and `engine:
/// netem` is refused before injection — see NetworkTests).
@Suite(
    "netem engine on this kernel", .serialized,
    .enabled(
        if: getuid() == 0 && KernelFeatures.netem.available, Comment(rawValue: "needs root and sch_netem: \(KernelFeatures.netem.why)")))
struct NetemEngineTests {
    @Test("50 ms through netem under faultline's HTB: the added median within ±1 ms; the revert leaves the kernel's default")
    func delay() throws {
        let pair = try NamespacePair()
        try pair.startEcho()
        let device = "v\(pair.a.dropFirst(3).dropLast())a"
        let base = try pair.roundTrips(100).compactMap { $0 }.sorted()
        var s = Shaping()
        s.delay = 50_000_000
        try NetworkNamespace.run(pair.path(pair.a)) { try TrafficControl().addNetem(device: device, shaping: s, filters: []) }
        let delayed = try pair.roundTrips(1_000).compactMap { $0 }.sorted()
        try NetworkNamespace.run(pair.path(pair.a)) {
            let tc = try TrafficControl()
            try tc.deleteQdisc(device: device, parent: TrafficControl.root, handle: TrafficControl.handle(TrafficControl.major, 0))
            #expect(try tc.qdiscs(device).allSatisfy { $0.handle >> 16 == 0 })
        }
        let added = delayed[delayed.count / 2] - base[base.count / 2]
        #expect(delayed.count == 1_000 && abs(added - 50_000_000) <= 1_000_000, "added median \(DurationText.format(added))")
    }
}
