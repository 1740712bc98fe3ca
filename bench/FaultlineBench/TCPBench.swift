import ArgumentParser
import FaultlineCore
import FaultlineLinux
import Foundation
import Glibc

/// The proxy benchmark's two ends (bench/proxy.sh): a server, and a client that measures round
/// trips or throughput through whatever sits between them (nothing, faultline's proxy, socat,
/// HAProxy).
struct TCPBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tcp", abstract: "TCP round trips and throughput on loopback (the proxy benchmark).",
        subcommands: [Serve.self, Latency.self, Throughput.self])

    /// Per connection, the first byte says what to do: 'E' echo everything, 'S' read to EOF and
    /// answer with the byte count (8 bytes, little-endian).
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "serve", abstract: "Echo ('E') or sink ('S') server.")
        @Option(help: "Port on 127.0.0.1.") var port: UInt16

        func run() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, 4)
            var a = Self.address(port)
            let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, 16) } }
            guard rc == 0, listen(fd, 128) == 0 else { throw ValidationError("cannot listen on \(port)") }
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 { continue }
                Thread { Self.serve(c) }.start()
            }
        }

        static func address(_ port: UInt16) -> sockaddr_in {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            a.sin_addr.s_addr = inet_addr("127.0.0.1")
            return a
        }

        static func serve(_ c: Int32) {
            defer { close(c) }
            var one: Int32 = 1
            setsockopt(c, Int32(IPPROTO_TCP), TCP_NODELAY, &one, 4)
            var mode: UInt8 = 0
            guard recv(c, &mode, 1, Int32(MSG_WAITALL)) == 1 else { return }
            let size = 1 << 20
            let buf = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
            defer { buf.deallocate() }
            var total: UInt64 = 0
            while true {
                let n = recv(c, buf, size, 0)
                if n <= 0 { break }
                total += UInt64(n)
                if mode == UInt8(ascii: "E") { guard TCPBench.sendAll(c, buf, n) else { return } }
            }
            if mode == UInt8(ascii: "S") {
                var t = total
                _ = withUnsafeBytes(of: &t) { TCPBench.sendAll(c, UnsafeMutableRawPointer(mutating: $0.baseAddress!), 8) }
            }
        }
    }

    static func sendAll(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Bool {
        var at = 0
        while at < n {
            let w = send(fd, p + at, n - at, Int32(MSG_NOSIGNAL))
            if w <= 0 { return false }
            at += w
        }
        return true
    }

    static func connect(_ port: UInt16, mode: UInt8) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = Serve.address(port)
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, 16) } }
        guard rc == 0 else { throw ValidationError("cannot connect to \(port): \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, 4)
        var m = mode
        _ = send(fd, &m, 1, 0)
        return fd
    }

    /// Round trips of `size` bytes, one at a time; prints p50 and p99 in microseconds.
    struct Latency: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "latency", abstract: "Ping-pong round trips through PORT.")
        @Option(help: "Port on 127.0.0.1.") var port: UInt16
        @Option(help: "Round trips measured (after 1,000 not counted).") var count = 20_000
        @Option(help: "Bytes each way.") var size = 64

        func run() throws {
            let fd = try TCPBench.connect(port, mode: UInt8(ascii: "E"))
            defer { close(fd) }
            let buf = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
            defer { buf.deallocate() }
            var samples: [Int64] = []
            samples.reserveCapacity(count)
            for i in 0..<(count + 1_000) {
                let t = MonotonicClock.now()
                guard TCPBench.sendAll(fd, buf, size) else { throw ValidationError("send failed") }
                var got = 0
                while got < size {
                    let n = recv(fd, buf + got, size - got, 0)
                    guard n > 0 else { throw ValidationError("connection closed") }
                    got += n
                }
                if i >= 1_000 { samples.append(MonotonicClock.now() - t) }
            }
            samples.sort()
            let q = { (p: Double) in Double(samples[min(samples.count - 1, Int(Double(samples.count) * p))]) / 1_000 }
            print(String(format: "p50 %.1f µs p99 %.1f µs (%d round trips of %d bytes)", q(0.5), q(0.99), count, size))
        }
    }

    /// Sends `megabytes` to a sink and waits for its count; prints GB/s (10^9 bytes).
    struct Throughput: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "throughput", abstract: "Bulk transfer through PORT.")
        @Option(help: "Port on 127.0.0.1.") var port: UInt16
        @Option(help: "Megabytes (10^6 bytes) to send.") var megabytes = 4_000

        func run() throws {
            let fd = try TCPBench.connect(port, mode: UInt8(ascii: "S"))
            defer { close(fd) }
            let size = 1 << 20
            let buf = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
            defer { buf.deallocate() }
            memset(buf, 0x5a, size)
            let total = megabytes * 1_000_000
            let t = MonotonicClock.now()
            var sent = 0
            while sent < total {
                let n = min(size, total - sent)
                guard TCPBench.sendAll(fd, buf, n) else { throw ValidationError("send failed") }
                sent += n
            }
            shutdown(fd, Int32(SHUT_WR))
            var count: UInt64 = 0
            guard recv(fd, &count, 8, Int32(MSG_WAITALL)) == 8, count == UInt64(total) else {
                throw ValidationError("the sink counted \(count) of \(total) bytes")
            }
            let seconds = Double(MonotonicClock.now() - t) / 1e9
            print(String(format: "%.2f GB/s (%d MB in %.2f s)", Double(total) / seconds / 1e9, megabytes, seconds))
        }
    }
}
