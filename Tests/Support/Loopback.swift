import Foundation
import Glibc

/// Servers on loopback for the proxy to forward to, and a blocking client.
public enum Loopback {
    /// A listening socket on 127.0.0.1 (on `port`, or one the kernel picks) and its port.
    public static func listen(port: UInt16 = 0) throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, 4)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, 16) } }
        guard rc == 0, Glibc.listen(fd, 128) == 0 else { throw TestFailure("listen: \(String(cString: strerror(errno)))") }
        var len = socklen_t(16)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return (fd, UInt16(bigEndian: a.sin_port))
    }

    /// A server that runs `serve` on each accepted connection (on its own thread) until closed.
    public final class Server: @unchecked Sendable {
        public let fd: Int32
        public let port: UInt16
        public init(_ serve: @escaping @Sendable (Int32) -> Void) throws {
            (fd, port) = try Loopback.listen()
            let fd = self.fd
            Thread {
                while true {
                    let c = accept(fd, nil, nil)
                    if c < 0 { return }
                    Thread {
                        serve(c)
                        close(c)
                    }.start()
                }
            }.start()
        }
        deinit {
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }
        public var address: String { "127.0.0.1:\(port)" }
    }

    /// Echoes everything back until the client closes.
    public static func echo() throws -> Server {
        try Server { c in
            var buf = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = recv(c, &buf, buf.count, 0)
                if n <= 0 { return }
                var at = 0
                while at < n {
                    let w = buf.withUnsafeBufferPointer { Glibc.send(c, $0.baseAddress! + at, n - at, Int32(MSG_NOSIGNAL)) }
                    if w <= 0 { return }
                    at += w
                }
            }
        }
    }

    /// Sends `count` bytes (a counting pattern) on connect, then closes.
    public static func source(_ count: Int) throws -> Server {
        // Made once, not per connection: a debug build takes ~0.1 s to make 500 kB this way.
        let bytes = (0..<count).map { UInt8($0 % 251) }
        return try Server { c in
            var at = 0
            while at < bytes.count {
                let w = bytes.withUnsafeBufferPointer { Glibc.send(c, $0.baseAddress! + at, bytes.count - at, Int32(MSG_NOSIGNAL)) }
                if w <= 0 { return }
                at += w
            }
        }
    }

    /// A blocking client connected to `port`, with a receive timeout.
    public static func connect(_ port: UInt16, timeout: Double = 5) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, 16) } }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw Refused(errno: e)
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, 4)
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    public struct Refused: Error { public var errno: Int32 }

    /// Sends all of `bytes`; false when the peer is gone.
    @discardableResult
    public static func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var at = 0
        while at < bytes.count {
            let w = bytes.withUnsafeBufferPointer { Glibc.send(fd, $0.baseAddress! + at, bytes.count - at, Int32(MSG_NOSIGNAL)) }
            if w <= 0 { return false }
            at += w
        }
        return true
    }

    /// Reads until `count` bytes, EOF, an error or the timeout; the bytes, each read's size,
    /// and how it ended (0: EOF or enough, else errno).
    public static func receive(_ fd: Int32, _ count: Int = .max) -> (bytes: [UInt8], reads: [Int], end: Int32) {
        var out: [UInt8] = []
        var reads: [Int] = []
        var buf = [UInt8](repeating: 0, count: 65_536)
        while out.count < count {
            let n = recv(fd, &buf, min(buf.count, count - out.count), 0)
            if n < 0 { return (out, reads, errno) }
            if n == 0 { return (out, reads, 0) }
            out += buf[0..<n]
            reads.append(n)
        }
        return (out, reads, 0)
    }
}
