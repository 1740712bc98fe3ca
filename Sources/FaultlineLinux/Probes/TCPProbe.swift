import FaultlineCore
import Glibc

/// Succeeds when a TCP connection to the address completes within the timeout.
final class TCPProbe: Probe {
    let spec: ProbeSpec.TCP
    private var address: (storage: sockaddr_storage, length: socklen_t, family: Int32)?

    init(_ spec: ProbeSpec.TCP) {
        self.spec = spec
        address = Self.resolve(spec.host, spec.port)
    }

    func sample() -> ProbeSample {
        Probes.timed {
            if address == nil { address = Self.resolve(spec.host, spec.port) }
            guard var a = address else { return (false, "cannot resolve '\(spec.host)'") }
            return Self.connect(&a.storage, a.length, family: a.family, timeout: spec.timeout)
        }
    }

    static func connect(_ storage: inout sockaddr_storage, _ length: socklen_t, family: Int32, timeout: Int64) -> (Bool, String?) {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return (false, "socket: \(errnoText())") }
        defer { close(fd) }
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
        }
        if rc == 0 { return (true, nil) }
        guard errno == EINPROGRESS else { return (false, "connect: \(errnoText())") }
        var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let ready = poll(&p, 1, Int32(max(1, timeout / 1_000_000)))
        if ready == 0 { return (false, "connect: timed out after \(DurationText.format(timeout))") }
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
        return err == 0 ? (true, nil) : (false, "connect: \(errnoText(err))")
    }

    /// Resolves with `getaddrinfo`, preferring the first answer.
    static func resolve(_ host: String, _ port: Int) -> (sockaddr_storage, socklen_t, Int32)? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &res) == 0, let first = res else { return nil }
        defer { freeaddrinfo(res) }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
        }
        return (storage, first.pointee.ai_addrlen, first.pointee.ai_family)
    }
}
