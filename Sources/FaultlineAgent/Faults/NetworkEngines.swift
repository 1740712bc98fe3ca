import FaultlineEssentials
import FoundationEssentials

/// Starting a network fault's mechanisms on this host, and reading back what they did: the
/// queue engine (delay line or kernel loss), an HTB rate (on an IFB for ingress), or netem.
/// Stopping is the ledger's undo steps, so that recovery can do it too.
enum NetworkEngines {
    static func start(_ w: NetworkWork) throws {
        let egress = w.filter.direction != .ingress
        let ingress = w.filter.direction != .egress
        let tc = try TrafficControl()
        switch w.engine {
        case .netem:
            if egress { try tc.addNetem(device: w.device, shaping: w.shaping, filters: filters(w, outgoing: true)) }
            if ingress {
                try tc.addIFB(w.ifb)
                try tc.redirectIngress(device: w.device, to: w.ifb)
                try tc.addNetem(device: w.ifb, shaping: w.shaping, filters: filters(w, outgoing: false))
            }
            return
        default:
            if w.shaping.needsDelayLine {
                _ = try NetworkQueueEngine(
                    tableName: w.table, rules: { rules(w, $0) }, shaping: w.shaping, queueBase: w.queueBase, seed: w.seed)
            }
            if let r = w.shaping.rate, egress {
                try tc.addRateLimit(device: w.device, rate: r.bitsPerSecond / 8, burst: r.burst, filters: filters(w, outgoing: true))
            }
        }
        if let r = w.shaping.rate, ingress {
            try tc.addIFB(w.ifb)
            try tc.redirectIngress(device: w.device, to: w.ifb)
            try tc.addRateLimit(device: w.ifb, rate: r.bitsPerSecond / 8, burst: r.burst, filters: filters(w, outgoing: false))
        }
    }

    /// The nft rules: one per hook and peer (a rule with no peer takes every peer).
    static func rules(_ w: NetworkWork, _ action: NftQueueTable.Action) -> [NftQueueTable.Rule] {
        var hooks: [NftQueueTable.Hook] = []
        if w.filter.direction != .ingress { hooks.append(.output) }
        if w.filter.direction != .egress { hooks.append(.input) }
        let peers: [IPv4Subnet?] = w.peers.isEmpty ? [nil] : w.peers
        return hooks.flatMap { hook in
            peers.map { peer in
                NftQueueTable.Rule(
                    hook: hook, peer: peer, proto: w.filter.proto.number, port: w.filter.port.map(UInt16.init), action: action)
            }
        }
    }

    /// The u32 keys of each filter (one filter per peer): destination (`outgoing`) or source
    /// address, protocol, and the peer's port (destination going out, source coming in).
    static func filters(_ w: NetworkWork, outgoing: Bool) -> [[U32Key]] {
        let peers: [IPv4Subnet?] = w.peers.isEmpty ? [nil] : w.peers
        return peers.map { peer in
            var keys: [U32Key] = []
            if let p = peer { keys.append(U32Key(value: p.network.value, mask: p.mask, offset: outgoing ? 16 : 12)) }
            if let n = w.filter.proto.number { keys.append(U32Key(value: UInt32(n) << 16, mask: 0x00FF_0000, offset: 8)) }
            if let port = w.filter.port.map(UInt32.init) {
                // The transport header right after a 20-byte IP header: source port, destination port.
                keys.append(
                    outgoing ? U32Key(value: port, mask: 0xFFFF, offset: 20) : U32Key(value: port << 16, mask: 0xFFFF_0000, offset: 20))
            }
            return keys
        }
    }

    /// Reads the packets the fault's mechanism was handed and dropped so far: the delay line's
    /// account, or the netem qdiscs' statistics (on the device and its IFB); nil when neither
    /// runs here.
    static func lossCounters(_ w: NetworkWork) -> (() -> (packets: Int, dropped: Int))? {
        if w.engine == .netem {
            guard let tc = try? TrafficControl() else { return nil }
            return {
                var total = (packets: 0, dropped: 0)
                for device in [w.device, w.ifb] {
                    guard let s = try? tc.netemStats(device: device) else { continue }
                    total.packets += Int(s.packets + s.drops)
                    total.dropped += Int(s.drops)
                }
                return total
            }
        }
        guard let engine = NetworkQueueEngine.find(table: w.table) else { return nil }
        return {
            let s = engine.stats
            return (s.received, s.dropped)
        }
    }

    /// What the mechanisms did, for the journal: the delay line's account, the shaper's bytes.
    static func report(_ w: NetworkWork) -> String? {
        var parts: [String] = []
        if let s = NetworkQueueEngine.find(table: w.table)?.stats {
            let held = s.held.sorted()
            var line = "delay line: \(s.received) packets, \(s.dropped) dropped"
            if s.received > 0, case .random(let p, _)? = w.shaping.loss {
                line += " (\(PercentText.format(Double(s.dropped) / Double(s.received))) for \(PercentText.format(p)) asked)"
            }
            if !held.isEmpty {
                line +=
                    ", held median \(DurationText.format(held[held.count / 2])) p99 \(DurationText.format(held[min(held.count - 1, held.count * 99 / 100)]))"
                line += " for \(DurationText.format(w.shaping.delay)) asked"
            }
            if s.corrupted > 0 { line += ", \(s.corrupted) corrupted" }
            if s.late > 0 { line += ", \(s.late) released over 1 ms late" }
            if s.cpu > 0 { line += ", \(DurationText.format(s.cpu)) of CPU" }
            if s.overflows > 0 { line += ", the kernel dropped queue messages \(s.overflows) time(s)" }
            parts.append(line)
        }
        if w.shaping.rate != nil, let tc = try? TrafficControl() {
            for device in [w.device, w.ifb] {
                if let bytes = try? tc.sentBytes(device: device, class: 1), bytes > 0 {
                    parts.append("rate class on \(device) sent \(bytes) bytes")
                }
            }
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}
