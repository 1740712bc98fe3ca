/// `network`: degrade a host's traffic — delay with jitter, loss, duplication, corruption,
/// reordering, a bandwidth limit — alone or combined in one fault, for the packets a filter
/// selects (destination hosts or networks, port, protocol, direction).
///
/// Two engines do it: `netem` (the kernel's netem qdisc, through netlink) where the kernel has
/// sch_netem, and `queue` (an NFQUEUE rule in faultline's own nft table and a delay line in the
/// host's agent) where it has not; `auto` prefers netem. The engine is chosen on each host
/// before anything is injected, and the journal records it.
public struct NetworkFault: Codable, Equatable, Sendable {
    public static let key = "network"

    public var host: String
    /// The interface; nil: a lab host's `eth0`.
    public var device: String?
    public var filter: PacketFilter
    public var shaping: Shaping
    public var engine: Engine

    public init(host: String, device: String? = nil, filter: PacketFilter = PacketFilter(), shaping: Shaping, engine: Engine = .auto) {
        self.host = host
        self.device = device
        self.filter = filter
        self.shaping = shaping
        self.engine = engine
    }

    public enum Engine: String, Codable, Sendable, CaseIterable {
        case auto, netem, queue
    }

    /// What Linux accepts as an interface name (IFNAMSIZ 16, with the NUL).
    package static func isInterfaceName(_ s: String) -> Bool {
        (1...15).contains(s.utf8.count)
            && s.utf8.allSatisfy { ASCII.letter($0) || ASCII.digit($0) || $0 == 45 || $0 == 95 || $0 == 46 }
    }
}
