import FaultlineEssentials
import Glibc

/// A raw netlink socket (`socket(AF_NETLINK, SOCK_RAW, protocol)`), closed when released.
package final class NetlinkSocket: @unchecked Sendable {
    let fd: Int32
    private var sequence: UInt32 = 1

    package static let netfilter: Int32 = 12  // NETLINK_NETFILTER

    package init(protocol proto: Int32, receiveBuffer: Int32 = 0) throws(NetlinkError) {
        let s = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), proto)
        guard s >= 0 else { throw NetlinkError.call("socket(AF_NETLINK)", errnoText()) }
        fd = s
        var address = NetlinkAddress(family: sa_family_t(AF_NETLINK))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<NetlinkAddress>.size)) }
        }
        guard bound == 0 else {
            close(s)
            throw NetlinkError.call("bind(AF_NETLINK)", errnoText())
        }
        if receiveBuffer > 0 {
            var size = receiveBuffer
            // SO_RCVBUFFORCE (root) beyond rmem_max; SO_RCVBUF otherwise.
            if setsockopt(s, SOL_SOCKET, 33, &size, socklen_t(4)) != 0 {
                _ = setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(4))
            }
        }
    }

    deinit { close(fd) }

    func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }

    /// Sends bytes to the kernel.
    func send(_ bytes: [UInt8]) throws(NetlinkError) {
        var address = NetlinkAddress(family: sa_family_t(AF_NETLINK))
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<NetlinkAddress>.size))
            }
        }
        guard sent == bytes.count else { throw NetlinkError.call("sendto(netlink)", errnoText()) }
    }

    /// Receives one datagram into `buffer`; its length, or nil on EAGAIN (non-blocking) and errors.
    func receive(_ buffer: inout [UInt8]) -> Int? {
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0, errno == EINTR { continue }
            return n > 0 ? n : nil
        }
    }

    /// Sends messages that each ask for an acknowledgement and waits for all of them; the first
    /// error the kernel returns is thrown with its text, naming `what`.
    func transact(_ messages: [NetlinkMessage], acks: Set<UInt32>, what: String) throws(NetlinkError) {
        try send(messages.flatMap(\.bytes))
        var pending = acks
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !pending.isEmpty {
            guard let n = receive(&buffer) else { throw NetlinkError.call(what, "no answer from the kernel: \(errnoText())") }
            for m in NetlinkReader.messages(buffer[0..<n]) {
                guard let code = NetlinkReader.error(m) else { continue }
                pending.remove(m.sequence)
                if code != 0 { throw NetlinkError.call(what, errnoText(-code)) }
            }
        }
    }
}
