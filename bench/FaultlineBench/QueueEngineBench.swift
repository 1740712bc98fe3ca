import ArgumentParser
import FaultlineCore
import FaultlineLinux
import Foundation
import Glibc

/// The queue engine under load (bench/queue-engine.sh): UDP from namespace A to an echo in B at
/// a fixed packet rate, first without the engine (the baseline round trip and CPU), then with
/// a delay through it: the delay's error, the delay line's lateness, its CPU.
struct QueueEngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "queue-engine", abstract: "The queue engine at a packet rate.")
    @Option(help: "Namespace path of the sender (the engine runs there).") var sender: String
    @Option(help: "Namespace path of the echo.") var echo: String
    @Option(help: "The echo's address.") var peer: String
    @Option(help: "Packets per second.") var rate: Int
    @Option(help: "Seconds measured with the engine.") var seconds = 3.0
    @Option(help: "Delay asked, milliseconds.") var delay = 10

    func run() throws {
        let echoFd = try QueueEngineSession.inNamespace(echo) { try Self.udp(bind: peer, port: 7) }
        Thread { Self.echoLoop(echoFd) }.start()
        let fd = try QueueEngineSession.inNamespace(sender) { try Self.udp(bind: "0.0.0.0", port: 0) }
        let base = try blast(fd, seconds: 1)
        let session = try QueueEngineSession(namespace: sender, peer: peer, port: 7, delay: Nanos(delay) * 1_000_000)
        let loaded = try blast(fd, seconds: seconds)
        guard let r = session.stop() else { throw ValidationError("the engine kept no account") }
        let baseMedian = Self.q(base.rtts, 0.5)
        let asked = Double(delay) * 1e6
        let err50 = (Self.q(loaded.rtts, 0.5) - baseMedian - asked) / 1e3
        let err99 = (Self.q(loaded.rtts, 0.99) - baseMedian - asked) / 1e3
        let cpuShare = Double(r.cpu) / (loaded.seconds * 1e9)
        let busy = (loaded.busy / loaded.seconds - base.busy / base.seconds) * 100
        print(
            String(
                format:
                    "rate %d pps: %d sent, %d back, %d queued, %d overflows; delay error p50 %+.1f µs p99 %+.1f µs; lateness p50 %.1f µs p99 %.1f µs; delay line CPU %.1f %% of a core (%.1f %% per 10k pps); machine CPU +%.1f %% of a core over the baseline; realtime %@",
                rate, loaded.sent, loaded.rtts.count, r.received, r.overflows, err50, err99, Self.q(r.lateness.map(Double.init), 0.5) / 1e3,
                Self.q(r.lateness.map(Double.init), 0.99) / 1e3, cpuShare * 100, cpuShare * 100 * 10_000 / Double(rate), busy,
                r.realtime ? "yes" : "no"))
    }

    static func q(_ xs: [Double], _ p: Double) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? .nan : s[min(s.count - 1, Int(Double(s.count) * p))]
    }

    static func udp(bind address: String, port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr(address)
        var size: Int32 = 8 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, 4)
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, 16) } }
        guard fd >= 0, rc == 0 else { throw ValidationError("bind \(address):\(port): \(String(cString: strerror(errno)))") }
        return fd
    }

    static func echoLoop(_ fd: Int32) {
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

    /// Busy jiffies of the whole machine (user + nice + system + irq + softirq), in seconds.
    static func busySeconds() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8), let line = text.split(separator: "\n").first else {
            return 0
        }
        let f = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard f.count >= 7 else { return 0 }
        return (f[0] + f[1] + f[2] + f[5] + f[6]) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    struct Blast {
        var sent: Int
        var rtts: [Double]
        var seconds: Double
        var busy: Double
    }

    /// Sends at `rate` for `seconds` (as many as are due at each wake-up, 50 µs apart) and
    /// collects the round trips of those that came back within 0.5 s of the end.
    func blast(_ fd: Int32, seconds: Double) throws -> Blast {
        var to = sockaddr_in()
        to.sin_family = sa_family_t(AF_INET)
        to.sin_port = UInt16(7).bigEndian
        to.sin_addr.s_addr = inet_addr(peer)
        let rtts = Locked([Double]())
        let stop = Locked(false)
        let reader = Thread {
            var tv = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var buf = [UInt8](repeating: 0, count: 64)
            var local: [Double] = []
            while true {
                let n = recv(fd, &buf, buf.count, 0)
                let now = MonotonicClock.now()
                if n >= 8 {
                    var t: Int64 = 0
                    withUnsafeMutableBytes(of: &t) { $0.copyBytes(from: buf[0..<8]) }
                    local.append(Double(now - t))
                } else if stop.value {
                    break
                }
            }
            rtts.mutate { $0 = local }
        }
        reader.start()
        let busy0 = Self.busySeconds()
        let start = MonotonicClock.now()
        let end = start + Int64(seconds * 1e9)
        var sent = 0
        var payload = [UInt8](repeating: 0, count: 32)
        while true {
            let now = MonotonicClock.now()
            if now >= end { break }
            let due = Int(Double(now - start) / 1e9 * Double(rate))
            while sent < due {
                var t = MonotonicClock.now()
                withUnsafeBytes(of: &t) { for k in 0..<8 { payload[k] = $0[k] } }
                _ = withUnsafePointer(to: &to) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, payload, payload.count, 0, $0, 16) }
                }
                sent += 1
            }
            var ts = timespec(tv_sec: 0, tv_nsec: 50_000)
            nanosleep(&ts, nil)
        }
        let busy = Self.busySeconds() - busy0
        let elapsed = Double(MonotonicClock.now() - start) / 1e9
        usleep(UInt32(Double(delay) * 1_000 + 500_000))
        stop.mutate { $0 = true }
        while !reader.isFinished { usleep(10_000) }
        return Blast(sent: sent, rtts: rtts.value, seconds: elapsed, busy: busy)
    }
}
