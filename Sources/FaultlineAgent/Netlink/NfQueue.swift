internal import CLinux
import FaultlineEssentials
import Glibc

/// One NFQUEUE, bound on its own netlink socket (nfnetlink_queue): packets the kernel queues
/// arrive as messages, and each gets a verdict — accept (with its bytes changed, if given) or
/// drop. While nothing is bound, a rule with queue-bypass lets packets through.
final class NfQueue: @unchecked Sendable {
    struct Packet {
        var id: UInt32
        /// The packet's bytes, when the queue copies them (corruption needs them).
        var payload: [UInt8]?
    }

    let number: UInt16
    let socket: NetlinkSocket
    private var buffer = [UInt8](repeating: 0, count: 1 << 18)
    private var verdicts: [UInt8] = []

    static let subsystem: UInt8 = 3  // NFNL_SUBSYS_QUEUE

    /// Binds queue `number`; `copy` asks for each packet's bytes (else only its metadata).
    init(number: UInt16, copy: Bool, maxLength: UInt32 = 1 << 16) throws(NetlinkError) {
        self.number = number
        socket = try NetlinkSocket(protocol: NetlinkSocket.netfilter, receiveBuffer: 16 << 20)
        let flags = NetlinkMessage.request | NetlinkMessage.ack
        var acks = Set<UInt32>()
        var messages: [NetlinkMessage] = []
        func config(_ body: (inout NetlinkMessage) -> Void) {
            let seq = socket.nextSequence()
            acks.insert(seq)
            var m = NetlinkMessage(netfilter: Self.subsystem, 2, flags: flags, sequence: seq, family: 0, resource: number)
            body(&m)
            messages.append(m)
        }
        config { $0.attribute(1, [1, 0, 0, 0]) }  // NFQA_CFG_CMD: NFQNL_CFG_CMD_BIND
        config {
            $0.attribute(2, NetlinkMessage.be32(copy ? 0xffff : 0) + [copy ? 2 : 1])  // NFQA_CFG_PARAMS: copy packet / meta
            $0.attribute(3, be32: maxLength)  // NFQA_CFG_QUEUE_MAXLEN
            // NFQA_CFG_F_FAIL_OPEN: a full queue accepts rather than drops; F_GSO: no segmentation.
            $0.attribute(4, be32: 1 | 4)  // NFQA_CFG_MASK
            $0.attribute(5, be32: 1 | 4)  // NFQA_CFG_FLAGS
        }
        do {
            try socket.transact(messages, acks: acks, what: "bind NFQUEUE \(number)")
        } catch {
            throw NetlinkError.call(
                "bind NFQUEUE \(number)",
                "\(error)".contains("Device or resource busy") ? "the queue is bound by another program" : "\(error)")
        }
    }

    /// A timerfd on the monotonic clock, for waking at an absolute instant with nanosecond
    /// precision (poll's own timeout counts in milliseconds).
    private lazy var timer: Int32 = faultline_timerfd()

    /// Waits until the socket is readable or the monotonic instant `deadline`; true when there
    /// is something to read.
    func wait(until deadline: Int64) -> Bool {
        _ = faultline_timerfd_at(timer, deadline)
        var fds = [pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0), pollfd(fd: timer, events: Int16(POLLIN), revents: 0)]
        while poll(&fds, 2, -1) < 0, errno == EINTR {}
        if fds[1].revents & Int16(POLLIN) != 0 {
            var expirations: UInt64 = 0
            _ = read(timer, &expirations, 8)
        }
        return fds[0].revents & Int16(POLLIN) != 0
    }

    deinit { close(timer) }

    /// Reads what is waiting without blocking; calls `handle` for each packet. False when the
    /// socket reports an error other than "nothing more" (ENOBUFS: the kernel dropped messages).
    func drain(_ handle: (Packet) -> Void) -> (ok: Bool, overflowed: Bool) {
        while true {
            let n = recv(socket.fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return (true, false) }
                return (errno == ENOBUFS, errno == ENOBUFS)
            }
            guard n > 0 else { return (false, false) }
            for m in NetlinkReader.messages(buffer[0..<n]) where m.type == UInt16(Self.subsystem) << 8 {
                let attributes = NetlinkReader.attributes(m.payload, from: m.payload.startIndex + 4)
                guard let header = attributes[1], header.count >= 4 else { continue }  // NFQA_PACKET_HDR
                handle(Packet(id: NetlinkReader.be32(header, header.startIndex), payload: attributes[10].map(Array.init)))
            }
        }
    }

    /// Queues a verdict (NF_ACCEPT 1 / NF_DROP 0); `flush` sends the queued ones in one write.
    func verdict(_ id: UInt32, accept: Bool, payload: [UInt8]? = nil) {
        var m = NetlinkMessage(
            netfilter: Self.subsystem, 1, flags: NetlinkMessage.request, sequence: 0, family: 0, resource: number)
        m.attribute(2, NetlinkMessage.be32(accept ? 1 : 0) + NetlinkMessage.be32(id))  // NFQA_VERDICT_HDR
        if let payload { m.attribute(10, payload) }
        verdicts += m.bytes
    }

    /// Sends the queued verdicts; false when the kernel refused the write.
    @discardableResult
    func flush() -> Bool {
        guard !verdicts.isEmpty else { return true }
        defer { verdicts.removeAll(keepingCapacity: true) }
        return (try? socket.send(verdicts)) != nil
    }
}
