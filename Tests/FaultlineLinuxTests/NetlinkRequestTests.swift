import FaultlineCore
import Foundation
import Testing

@testable import FaultlineAgent
@testable import FaultlineLinux

/// An attribute read back in order (netlink lists repeat their types, so no dictionary).
private struct Attr {
    var type: UInt16
    var value: ArraySlice<UInt8>

    static func all(_ b: ArraySlice<UInt8>) -> [Attr] {
        var out: [Attr] = []
        var at = b.startIndex
        while at + 4 <= b.endIndex {
            let length = Int(NetlinkReader.le16(b, at))
            guard length >= 4, at + length <= b.endIndex else { return out + [Attr(type: 0xFFFF, value: [])] }
            out.append(Attr(type: NetlinkReader.le16(b, at + 2) & 0x3fff, value: b[(at + 4)..<(at + length)]))
            at += (length + 3) & ~3
        }
        return out
    }

    var string: String { String(decoding: value.prefix { $0 != 0 }, as: UTF8.self) }
    var be32: UInt32 { NetlinkReader.be32(value, value.startIndex) }
    func child(_ t: UInt16) -> Attr? { Attr.all(value).first { $0.type == t } }
}

/// The bytes faultline sends the kernel, read back field by field: the queue engine's nft batch
/// (written by hand) and the netem qdisc request (built by libnl). The integration tests show the
/// kernel accepts them; these pin down what they say.
@Suite("netlink requests")
struct NetlinkRequestTests {
    /// One rule's expressions as nft would list them, from the NEWRULE message.
    func describe(_ m: NetlinkMessage) -> [String] {
        let payload = ArraySlice(m.bytes)[16...]
        let attrs = Attr.all(payload[(payload.startIndex + 4)...])
        guard let list = attrs.first(where: { $0.type == 4 }) else { return ["no expressions"] }
        return Attr.all(list.value).map { elem in
            guard let name = elem.child(1)?.string, let data = elem.child(2) else { return "malformed" }
            let d = { (t: UInt16) in data.child(t)?.be32 ?? 0xFFFF_FFFF }
            switch name {
            case "payload": return "payload \(d(2) == 1 ? "nh" : "th") @\(d(3)) len \(d(4))"
            case "bitwise": return "bitwise & \(data.child(4)?.child(1)?.value.map { String($0) }.joined(separator: ".") ?? "?")"
            case "cmp": return "cmp op \(d(2)) \(data.child(3)?.child(1)?.value.map { String($0) }.joined(separator: ".") ?? "?")"
            case "meta": return "meta key \(d(2))"
            case "target":
                let info = data.child(3)?.value.map { String($0) }.joined(separator: ",") ?? "?"
                return "target \(data.child(1)?.string ?? "?") rev \(d(2)) [\(info)]"
            case "numgen": return "numgen mod \(d(2)) type \(d(3))"
            case "byteorder": return "byteorder op \(d(3)) len \(d(4))"
            case "immediate":
                return "immediate verdict \(data.child(2)?.child(2)?.child(1)?.be32 ?? 99)"
            default: return name
            }
        }
    }

    @Test("queue engine batch: an owned table, one chain per hook, a rule per peer matching address, protocol and port")
    func queueBatch() throws {
        let socket = try NetlinkSocket(protocol: NetlinkSocket.netfilter)
        let table = NftQueueTable(
            name: "faultline_t_0",
            rules: [
                .init(hook: .output, peer: IPv4Subnet("198.18.4.0/24"), proto: 6, port: 8000, action: .queue(number: 1234)),
                .init(hook: .input, peer: IPv4Subnet("198.18.4.12/32"), proto: nil, port: nil, action: .queue(number: 1234)),
            ])
        let (messages, acks) = table.createBatch(socket: socket)
        // BEGIN, NEWTABLE, NEWCHAIN ×2, NEWRULE ×2, END; every message but BEGIN and END asks for an ack.
        #expect(messages.map { NetlinkReader.le16(ArraySlice($0.bytes), 4) } == [0x10, 0x0A00, 0x0A03, 0x0A03, 0x0A06, 0x0A06, 0x11])
        #expect(acks.count == 5)
        for m in messages { #expect(Int(NetlinkReader.le32(ArraySlice(m.bytes), 0)) == m.bytes.count, "nlmsg_len") }
        let tableAttrs = Attr.all(ArraySlice(messages[1].bytes)[20...])
        #expect(tableAttrs.first { $0.type == 1 }?.string == "faultline_t_0")
        #expect(tableAttrs.first { $0.type == 2 }?.be32 == 2, "NFT_TABLE_F_OWNER: the table dies with the socket")
        let hooks = messages[2...3].map { m in Attr.all(ArraySlice(m.bytes)[20...]).first { $0.type == 4 }?.child(1)?.be32 }
        #expect(hooks == [1, 3], "NF_INET_LOCAL_IN and LOCAL_OUT")
        #expect(
            describe(messages[4]) == [
                "payload nh @16 len 4", "bitwise & 255.255.255.0", "cmp op 0 198.18.4.0", "meta key 16", "cmp op 0 6",
                "payload th @2 len 2",
                "cmp op 0 31.64", "target NFQUEUE rev 3 [210,4,1,0,1,0]",
            ])
        // A /32 needs no mask; the source address coming in.
        #expect(describe(messages[5]) == ["payload nh @12 len 4", "cmp op 0 198.18.4.12", "target NFQUEUE rev 3 [210,4,1,0,1,0]"])
        // The revert: first every rule (the chains stay, so what is queued stays valid), then the table.
        let (flush, _) = table.flushBatch(socket: socket)
        #expect(flush.map { NetlinkReader.le16(ArraySlice($0.bytes), 4) } == [0x10, 0x0A08, 0x0A08, 0x11])
        #expect(flush[1...2].map { Attr.all(ArraySlice($0.bytes)[20...]).first { $0.type == 2 }?.string } == ["in", "out"])
        let (delete, _) = table.deleteBatch(socket: socket)
        #expect(delete.map { NetlinkReader.le16(ArraySlice($0.bytes), 4) } == [0x10, 0x0A02, 0x11])
    }

    /// `/proc/net/psched`: the kernel's tick conversion, which libnl applies to netem's times.
    func ticksPerMicrosecond() throws -> Double {
        let f = try String(contentsOfFile: "/proc/net/psched", encoding: .utf8).split(separator: " ").compactMap {
            UInt32($0.trimmingCharacters(in: .whitespacesAndNewlines), radix: 16)
        }
        try #require(f.count >= 4)
        return Double(f[0]) / Double(f[1]) * (f[2] == 1_000_000 ? Double(f[3]) / 1e9 : 1)
    }

    @Test("netem request: kind, parent under faultline's HTB class, delay and jitter in ticks, shares as 32-bit fractions")
    func netemRequest() throws {
        let tc = try TrafficControl()
        var s = Shaping()
        s.delay = 50_000_000
        s.jitter = 10_000_000
        s.correlation = 0.25
        s.loss = .random(p: 0.2, correlation: 0)
        s.duplicate = 0.01
        s.corrupt = 0.001
        s.reorder = Shaping.Reorder(p: 0.5, correlation: 0.1)
        let bytes = ArraySlice(try tc.netemRequest(1, s))
        #expect(NetlinkReader.le16(bytes, 4) == 36, "RTM_NEWQDISC")
        #expect(NetlinkReader.le16(bytes, 6) & 0x600 == 0x600, "NLM_F_CREATE | NLM_F_EXCL: never replaces a qdisc")
        // tcmsg: family, pad, ifindex, handle, parent, info.
        let tcm = bytes[16...]
        #expect(NetlinkReader.le32(tcm, 20) == 1)
        #expect(NetlinkReader.le32(tcm, 24) == 0xFA18_0000, "its own handle fa18:")
        #expect(NetlinkReader.le32(tcm, 28) == 0xFA17_0001, "under faultline's class fa17:1")
        let attrs = Attr.all(bytes[36...])
        #expect(attrs.first { $0.type == 1 }?.string == "netem")
        let options = try #require(attrs.first { $0.type == 2 }).value
        // struct tc_netem_qopt: latency, limit, loss, gap, duplicate, jitter (host order).
        let field = { (i: Int) in NetlinkReader.le32(options, options.startIndex + 4 * i) }
        let ticks = try ticksPerMicrosecond()
        #expect(Double(field(0)) == (50_000 * ticks).rounded(.down), "latency in ticks")
        #expect(field(1) == 100_000, "limit")
        #expect(field(2) == 858_993_459, "loss 20 % of 2^32-1")
        #expect(field(4) == 42_949_673, "duplicate 1 %")
        #expect(Double(field(5)) == (10_000 * ticks).rounded(.down), "jitter in ticks")
        #expect(field(3) > 0, "reordering needs a gap")
        // The nested attributes after the 24-byte struct: correlations, reorder, corruption.
        let nested = Attr.all(options[(options.startIndex + 24)...])
        let le = { (a: Attr?, i: Int) in a.map { NetlinkReader.le32($0.value, $0.value.startIndex + 4 * i) } }
        let corr = nested.first { $0.type == 1 }
        #expect(le(corr, 0) == 1_073_741_824, "delay correlation 25 %")
        let reorder = nested.first { $0.type == 3 }
        #expect(le(reorder, 0) == 2_147_483_648 && le(reorder, 1) == 429_496_730, "reorder 50 %, correlation 10 %")
        #expect(le(nested.first { $0.type == 4 }, 0) == 4_294_967, "corrupt 0.1 %")
    }
}

@Suite("netem's distribution tables")
struct NetemTableTests {
    static let dirs = ["/usr/lib/x86_64-linux-gnu/tc", "/usr/lib/tc", "/usr/lib64/tc"]

    @Test(
        "each table is the one iproute2 ships, value for value, where this machine has its files",
        arguments: ["normal", "pareto", "paretonormal"])
    func sameAsIproute2(_ name: String) throws {
        let table = try #require(NetemTables.table(name))
        #expect(table.count == 4096)
        guard let file = Self.dirs.map({ "\($0)/\(name).dist" }).first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            // Without iproute2's files, the shape: increasing, centred for normal.
            #expect(zip(table, table.dropFirst()).allSatisfy { $0 <= $1 })
            return
        }
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let shipped = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.flatMap { $0.split(separator: " ") }.compactMap {
            Int16($0)
        }
        #expect(shipped.count == 4096, "\(file): \(shipped.count) values")
        let differing = zip(table, shipped).enumerated().filter { $0.element.0 != $0.element.1 }
        #expect(
            differing.isEmpty,
            "\(name): \(differing.count) values differ, first \(differing.prefix(3).map { "[\($0.offset)] \($0.element)" })")
    }

    @Test("uniform has no table; an unknown name none")
    func none() {
        #expect(NetemTables.table("uniform") == nil && NetemTables.table("gauss") == nil)
    }
}
