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

}
