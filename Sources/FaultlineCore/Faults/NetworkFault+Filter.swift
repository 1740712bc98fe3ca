import Yams

/// Which packets a network fault acts on.
public struct PacketFilter: Codable, Equatable, Sendable {
    /// A peer: a lab host (its address once the lab is known) or an IPv4 address or network.
    public enum Peer: Codable, Equatable, Sendable, CustomStringConvertible {
        case host(String)
        case network(IPv4Subnet)

        public var description: String {
            switch self {
            case .host(let h): return h
            case .network(let n): return n.prefix == 32 ? n.network.description : n.description
            }
        }
    }

    public enum Proto: String, Codable, Sendable, CaseIterable {
        case all, tcp, udp, icmp

        /// The IP protocol number; nil for all.
        public var number: UInt8? {
            switch self {
            case .all: return nil
            case .tcp: return 6
            case .udp: return 17
            case .icmp: return 1
            }
        }
    }

    /// Egress: packets the host sends (to a peer, to its port). Ingress: packets it receives
    /// (from a peer, from its port). Both: either.
    public enum Direction: String, Codable, Sendable, CaseIterable {
        case egress, ingress, both
    }

    /// Empty: every peer.
    public var peers: [Peer] = []
    /// The peer's port: the destination port going out, the source port coming in.
    public var port: Int?
    public var proto: Proto = .all
    public var direction: Direction = .egress

    public init(peers: [Peer] = [], port: Int? = nil, proto: Proto = .all, direction: Direction = .egress) {
        self.peers = peers
        self.port = port
        self.proto = proto
        self.direction = direction
    }

    /// The lab host names among the peers, to be resolved to addresses.
    public var hostNames: [String] { peers.compactMap { if case .host(let h) = $0 { return h } else { return nil } } }

    public var summary: String {
        let who = peers.isEmpty ? "every peer" : peers.map(\.description).joined(separator: ", ")
        let what = proto == .all ? "" : " \(proto.rawValue)"
        let port = self.port.map { " port \($0)" } ?? ""
        return "\(direction.rawValue)\(what) \(direction == .ingress ? "from" : "to") \(who)\(port)"
    }

    static func read(_ f: Fields, reader r: NodeReader) -> PacketFilter? {
        var filter = PacketFilter()
        var ok = true
        if let node = f.values["to"] {
            let items: [Node]
            if case .sequence(let s) = node { items = Array(s) } else { items = [node] }
            for item in items {
                guard case .scalar(let s) = item, !s.string.isEmpty else {
                    r.error(
                        item,
                        "'\(f.child("to"))' must list lab hosts, addresses or networks like 198.18.4.0/24, got \(NodeReader.describe(item))"
                    )
                    ok = false
                    continue
                }
                if let subnet = IPv4Subnet(s.string) {
                    filter.peers.append(.network(subnet))
                } else if IPv4Address(s.string) != nil, let host = IPv4Subnet("\(s.string)/32") {
                    filter.peers.append(.network(host))
                } else if s.string.hasPrefix(HostSet.regionPrefix) {
                    filter.peers.append(.host(s.string))
                } else if s.string.contains(".") || s.string.contains("/") || s.string.contains(":") {
                    r.error(
                        item, "'\(f.child("to"))' holds \(shown: s.string), which is not an IPv4 address or network (like 198.18.4.0/24)")
                    ok = false
                } else {
                    filter.peers.append(.host(s.string))
                }
            }
        }
        filter.port = r.int(f, "port", range: 1...65_535)
        if let p = r.string(f, "protocol") {
            if let v = Proto(rawValue: p) {
                filter.proto = v
            } else {
                r.error(f.values["protocol"], "'\(f.child("protocol"))' must be one of all, tcp, udp, icmp, got \(shown: p)")
                ok = false
            }
        }
        if filter.port != nil, filter.proto != .tcp, filter.proto != .udp {
            r.error(f.values["port"], "'\(f.child("port"))' needs 'protocol: tcp' or 'protocol: udp' (a port belongs to one)")
            ok = false
        }
        if let d = r.string(f, "direction") {
            if let v = Direction(rawValue: d) {
                filter.direction = v
            } else {
                r.error(f.values["direction"], "'\(f.child("direction"))' must be one of egress, ingress, both, got \(shown: d)")
                ok = false
            }
        }
        return ok ? filter : nil
    }
}
