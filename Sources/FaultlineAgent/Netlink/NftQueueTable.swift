import FaultlineEssentials

/// faultline's own nf_tables table for the queue engine, built as one netlink batch: a table
/// of family ip owned by the socket that creates it (`NFT_TABLE_F_OWNER`: the kernel removes it
/// when that socket closes, so an agent that dies takes its rules with it), a base chain per
/// hook, and one rule per peer that hands matching packets to an NFQUEUE (the xtables target
/// through nft_compat, with queue-bypass: while no program is bound to the queue, packets pass).
/// Loss is the delay line's verdict too, never a drop here: a drop in the output hook makes
/// the sender's syscall fail, which a wire's loss never does.
///
/// This kernel has the xtables NFQUEUE target but not nft's own `queue` statement; the compat
/// target works in a table of family ip, not inet.
package struct NftQueueTable {
    enum Hook: UInt32 {
        /// NF_INET_LOCAL_OUT: packets the host sends.
        case output = 3
        /// NF_INET_LOCAL_IN: packets the host receives.
        case input = 1

        var chain: String { self == .output ? "out" : "in" }
    }

    package enum Action: Equatable {
        case queue(number: UInt16)
    }

    package struct Rule: Equatable {
        var hook: Hook
        /// Packets to (output) or from (input) this network; nil: any.
        var peer: IPv4Subnet?
        var proto: UInt8?
        /// The peer's port: destination going out, source coming in.
        var port: UInt16?
        var action: Action
    }

    var name: String
    var rules: [Rule]

    static let subsystem: UInt8 = 10  // NFNL_SUBSYS_NFTABLES
    static let ipv4: UInt8 = 2  // NFPROTO_IPV4

    /// BEGIN, table, chains, rules, END; the sequence numbers that ask for an acknowledgement.
    func createBatch(socket: NetlinkSocket) -> ([NetlinkMessage], Set<UInt32>) {
        var out = [NetlinkMessage(type: 0x10, flags: NetlinkMessage.request, sequence: socket.nextSequence())]
        out[0].raw([0, 0, 0, Self.subsystem])  // nfgenmsg: AF_UNSPEC, v0, res_id = NFNL_SUBSYS_NFTABLES
        var acks = Set<UInt32>()
        let flags = NetlinkMessage.request | NetlinkMessage.ack | NetlinkMessage.create
        var table = message(0, flags | NetlinkMessage.exclusive, socket, &acks)  // NFT_MSG_NEWTABLE
        table.attribute(1, string: name)
        table.attribute(2, be32: 2)  // NFTA_TABLE_FLAGS: NFT_TABLE_F_OWNER
        out.append(table)
        for hook in Set(rules.map(\.hook)).sorted(by: { $0.rawValue < $1.rawValue }) {
            var chain = message(3, flags, socket, &acks)  // NFT_MSG_NEWCHAIN
            chain.attribute(1, string: name)
            chain.attribute(3, string: hook.chain)
            chain.nest(4)  // NFTA_CHAIN_HOOK
            chain.attribute(1, be32: hook.rawValue)
            chain.attribute(2, be32: UInt32(bitPattern: -10))
            chain.close()
            chain.attribute(5, be32: 1)  // policy accept
            chain.attribute(7, string: "filter")
            out.append(chain)
        }
        for rule in rules {
            var m = message(6, flags | NetlinkMessage.append, socket, &acks)  // NFT_MSG_NEWRULE
            m.attribute(1, string: name)
            m.attribute(2, string: rule.hook.chain)
            m.nest(4)  // NFTA_RULE_EXPRESSIONS
            Self.expressions(rule, into: &m)
            m.close()
            out.append(m)
        }
        var end = NetlinkMessage(type: 0x11, flags: NetlinkMessage.request, sequence: socket.nextSequence())
        end.raw([0, 0, 0, Self.subsystem])
        out.append(end)
        return (out, acks)
    }

    /// The batch that deletes every rule of the table's chains and keeps the chains: nothing new
    /// is queued, while packets already queued stay valid (deleting a base chain unregisters
    /// its hook, and the kernel then drops every packet queued from it).
    func flushBatch(socket: NetlinkSocket) -> ([NetlinkMessage], Set<UInt32>) {
        var begin = NetlinkMessage(type: 0x10, flags: NetlinkMessage.request, sequence: socket.nextSequence())
        begin.raw([0, 0, 0, Self.subsystem])
        var out = [begin]
        var acks = Set<UInt32>()
        for hook in Set(rules.map(\.hook)).sorted(by: { $0.rawValue < $1.rawValue }) {
            var m = message(8, NetlinkMessage.request | NetlinkMessage.ack, socket, &acks)  // NFT_MSG_DELRULE
            m.attribute(1, string: name)
            m.attribute(2, string: hook.chain)
            out.append(m)
        }
        var end = NetlinkMessage(type: 0x11, flags: NetlinkMessage.request, sequence: socket.nextSequence())
        end.raw([0, 0, 0, Self.subsystem])
        out.append(end)
        return (out, acks)
    }

    /// The batch that deletes the table (on the socket that owns it).
    func deleteBatch(socket: NetlinkSocket) -> ([NetlinkMessage], Set<UInt32>) {
        var begin = NetlinkMessage(type: 0x10, flags: NetlinkMessage.request, sequence: socket.nextSequence())
        begin.raw([0, 0, 0, Self.subsystem])
        var acks = Set<UInt32>()
        var table = message(2, NetlinkMessage.request | NetlinkMessage.ack, socket, &acks)  // NFT_MSG_DELTABLE
        table.attribute(1, string: name)
        var end = NetlinkMessage(type: 0x11, flags: NetlinkMessage.request, sequence: socket.nextSequence())
        end.raw([0, 0, 0, Self.subsystem])
        return ([begin, table, end], acks)
    }

    private func message(_ command: UInt8, _ flags: UInt16, _ socket: NetlinkSocket, _ acks: inout Set<UInt32>) -> NetlinkMessage {
        let seq = socket.nextSequence()
        acks.insert(seq)
        return NetlinkMessage(netfilter: Self.subsystem, command, flags: flags, sequence: seq, family: Self.ipv4)
    }

    /// The rule's expressions: match the peer, the protocol and the port, then act.
    static func expressions(_ rule: Rule, into m: inout NetlinkMessage) {
        if let peer = rule.peer {
            // ip saddr/daddr: network header offset 12 (source) or 16 (destination), 4 bytes.
            payload(base: 1, offset: rule.hook == .output ? 16 : 12, length: 4, into: &m)
            if peer.prefix < 32 { bitwise(mask: NetlinkMessage.be32(peer.mask), into: &m) }
            cmp(op: 0, NetlinkMessage.be32(peer.network.value), into: &m)
        }
        if let proto = rule.proto {
            expression("meta", into: &m) {
                $0.attribute(1, be32: 1)  // NFTA_META_DREG: NFT_REG_1
                $0.attribute(2, be32: 16)  // NFTA_META_KEY: NFT_META_L4PROTO
            }
            cmp(op: 0, [proto], into: &m)
        }
        if let port = rule.port {
            // th dport (going out) or sport (coming in): transport header offset 2 or 0.
            payload(base: 2, offset: rule.hook == .output ? 2 : 0, length: 2, into: &m)
            cmp(op: 0, [UInt8(port >> 8), UInt8(port & 0xff)], into: &m)
        }
        switch rule.action {
        case .queue(let number):
            expression("target", into: &m) {
                $0.attribute(1, string: "NFQUEUE")
                $0.attribute(2, be32: 3)  // revision 3: struct xt_NFQ_info_v3
                // queuenum, queues_total, flags (NFQ_FLAG_BYPASS), in host order as xtables keeps them.
                $0.attribute(3, [UInt8(number & 0xff), UInt8(number >> 8), 1, 0, 1, 0])
            }
        }
    }

    static func expression(_ name: String, into m: inout NetlinkMessage, _ body: (inout NetlinkMessage) -> Void) {
        m.nest(1)  // NFTA_LIST_ELEM
        m.attribute(1, string: name)  // NFTA_EXPR_NAME
        m.nest(2)  // NFTA_EXPR_DATA
        body(&m)
        m.close()
        m.close()
    }

    static func payload(base: UInt32, offset: UInt32, length: UInt32, into m: inout NetlinkMessage) {
        expression("payload", into: &m) {
            $0.attribute(1, be32: 1)  // DREG
            $0.attribute(2, be32: base)
            $0.attribute(3, be32: offset)
            $0.attribute(4, be32: length)
        }
    }

    static func bitwise(mask: [UInt8], into m: inout NetlinkMessage) {
        expression("bitwise", into: &m) {
            $0.attribute(1, be32: 1)  // SREG
            $0.attribute(2, be32: 1)  // DREG
            $0.attribute(3, be32: UInt32(mask.count))  // LEN
            $0.nest(4)  // MASK
            $0.attribute(1, mask)  // NFTA_DATA_VALUE
            $0.close()
            $0.nest(5)  // XOR
            $0.attribute(1, [UInt8](repeating: 0, count: mask.count))
            $0.close()
        }
    }

    static func cmp(op: UInt32, _ value: [UInt8], into m: inout NetlinkMessage) {
        expression("cmp", into: &m) {
            $0.attribute(1, be32: 1)  // SREG
            $0.attribute(2, be32: op)
            $0.nest(3)  // DATA
            $0.attribute(1, value)  // NFTA_DATA_VALUE
            $0.close()
        }
    }
}
