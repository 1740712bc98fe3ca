import FaultlineCore
import Glibc

/// A minimal RESP2 client over one blocking TCP connection with send and receive timeouts.
final class RedisClient {
    enum Reply: Equatable {
        case status(String)
        case error(String)
        case integer(Int)
        case bulk(String?)
        case array([Reply])
    }

    enum Failure: Error, Equatable {
        /// No connection could be made: the command was certainly not applied.
        case connect(String)
        /// The command may have reached the server: its outcome is unknown.
        case io(String)
    }

    let endpoint: String
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(_ endpoint: String, timeout: Int64) throws(Failure) {
        self.endpoint = endpoint
        guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...]),
            var address = TCPConnect.resolve(String(endpoint[..<colon]), port)
        else { throw .connect("bad endpoint '\(endpoint)'") }
        let fd = socket(address.2, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .connect("socket: \(errnoText())") }
        var tv = timeval(tv_sec: Int(timeout / 1_000_000_000), tv_usec: Int(timeout % 1_000_000_000 / 1_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc = withUnsafePointer(to: &address.0) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, address.1) } }
        guard rc == 0 else {
            let why = errnoText()
            close(fd)
            throw .connect("connect \(endpoint): \(why)")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Sends one command and reads its reply.
    func call(_ args: [String]) throws(Failure) -> Reply {
        var out = "*\(args.count)\r\n"
        for a in args { out += "$\(a.utf8.count)\r\n\(a)\r\n" }
        let bytes = Array(out.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw .io("send to \(endpoint): \(errnoText())") }
            sent += n
        }
        return try reply()
    }

    private func reply() throws(Failure) -> Reply {
        let line = try readLine()
        guard let kind = line.first else { throw .io("empty reply from \(endpoint)") }
        let rest = String(line.dropFirst())
        switch kind {
        case "+": return .status(rest)
        case "-": return .error(rest)
        case ":": return .integer(Int(rest) ?? 0)
        case "$":
            let n = Int(rest) ?? -1
            guard n >= 0 else { return .bulk(nil) }
            let data = try readBytes(n + 2)
            return .bulk(String(decoding: data.prefix(n), as: UTF8.self))
        case "*":
            let n = Int(rest) ?? -1
            guard n >= 0 else { return .array([]) }
            var items: [Reply] = []
            for _ in 0..<n { items.append(try reply()) }
            return .array(items)
        default:
            throw .io("unexpected reply from \(endpoint): \(line.prefix(40))")
        }
    }

    private func readLine() throws(Failure) -> String {
        while true {
            if let i = buffer.firstIndex(of: 10), i > 0, buffer[i - 1] == 13 {
                let line = String(decoding: buffer[..<(i - 1)], as: UTF8.self)
                buffer.removeFirst(i + 1)
                return line
            }
            try fill()
        }
    }

    private func readBytes(_ n: Int) throws(Failure) -> [UInt8] {
        while buffer.count < n { try fill() }
        let out = Array(buffer.prefix(n))
        buffer.removeFirst(n)
        return out
    }

    /// Reused for every read: allocating (and zeroing) 64 KiB per reply halved the rate.
    private var chunk = [UInt8](repeating: 0, count: 65_536)

    private func fill() throws(Failure) {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0, errno == EINTR { return }
        guard n > 0 else { throw .io(n == 0 ? "\(endpoint) closed the connection" : "read from \(endpoint): \(errnoText())") }
        buffer += chunk[0..<n]
    }
}
