import FaultlineEssentials
import Glibc

/// TCP connects as a measuring tool: one with a timeout, many at once, name resolution.
package enum TCPConnect {
    package static func connect(_ storage: inout sockaddr_storage, _ length: socklen_t, family: Int32, timeout: Int64) -> (Bool, String?) {
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

    /// Which of `addresses` answer a TCP connect to `port` (accepted or refused) within
    /// `timeout`: every connect starts at once and one `poll` waits for all of them, so the
    /// cost is one timeout however many addresses there are.
    package static func answering(_ addresses: [String], port: Int, timeout: Int64) -> Set<String> {
        let answered = answers(addresses, port: port, timeout: timeout)
        return Set(addresses.indices.filter { answered[$0] }.map { addresses[$0] })
    }

    /// For each of `addresses` (the same one may repeat: one connect each), whether its connect
    /// was answered (accepted or refused) within `timeout`; all at once, one `poll` for all.
    package static func answers(_ addresses: [String], port: Int, timeout: Int64) -> [Bool] {
        var answered = [Bool](repeating: false, count: addresses.count)
        var pending: [(fd: Int32, index: Int)] = []
        defer { for p in pending { close(p.fd) } }
        for (i, a) in addresses.enumerated() {
            guard var target = resolve(a, port) else { continue }
            let fd = socket(target.2, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { continue }
            let rc = withUnsafePointer(to: &target.0) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, target.1) }
            }
            if rc == 0 || errno == ECONNREFUSED {
                answered[i] = true
                close(fd)
            } else if errno == EINPROGRESS {
                pending.append((fd, i))
            } else {
                close(fd)
            }
        }
        let deadline = MonotonicClock.now() + timeout
        while !pending.isEmpty {
            let remaining = deadline - MonotonicClock.now()
            if remaining <= 0 { break }
            var fds = pending.map { pollfd(fd: $0.fd, events: Int16(POLLOUT), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(max(1, remaining / 1_000_000)))
            if ready < 0, errno == EINTR { continue }
            if ready <= 0 { break }
            var still: [(fd: Int32, index: Int)] = []
            for (i, p) in pending.enumerated() {
                guard fds[i].revents != 0 else {
                    still.append(p)
                    continue
                }
                var err: Int32 = 0
                var len = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len)
                if err == 0 || err == ECONNREFUSED { answered[p.index] = true }
                close(p.fd)
            }
            pending = still
        }
        return answered
    }

    /// Resolves with `getaddrinfo`, preferring the first answer.
    package static func resolve(_ host: String, _ port: Int) -> (sockaddr_storage, socklen_t, Int32)? {
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
