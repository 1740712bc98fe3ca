import FaultlineEssentials
import FoundationEssentials
import Glibc

/// One host's part of a partition, as its agent receives it: drop packets from these
/// addresses, in an nft table owned by the run. A wire detail: experiments write `partition`.
public struct PartitionBlock: FaultWork {
    public static let key = "partition-block"
    public var host: String
    /// Addresses whose packets this host drops.
    public var from: [String]
    /// Addresses that must stay reachable (checked to confirm the cut is partial, not total).
    public var reachable: [String]
    /// The nft table (family inet), named after the run and the fault.
    public var table: String
    /// An outage: drop every packet not from loopback (other hosts, the runner, clients).
    public var everything: Bool?

    public init(host: String, from: [String], reachable: [String], table: String, everything: Bool? = nil) {
        self.host = host
        self.from = from
        self.reachable = reachable
        self.table = table
        self.everything = everything
    }
}

/// A partition becomes one ``PartitionBlock`` per host with a grudge: an nft table (family
/// inet, named after the run) whose input hook drops the peers' packets, in the host's own
/// network namespace (the agent runs there).
///
/// Confirmed by TCP connects to port 9: a dropped peer's answer never arrives (the connect times
/// out), while a reachable peer answers at once — with a refusal if nothing listens there. The
/// heal is confirmed the same way once every host has reverted.
public struct PartitionDriver: FaultEffect {
    public init() {}
    static let confirmConnectTimeout: Int64 = 150_000_000

    public func prepare(_ b: PartitionBlock) throws(FaultError) -> Injection {
        guard UndoStep.isFaultlineTable(b.table) else {
            throw FaultError.refused("nft table name '\(b.table)' is not a faultline table")
        }
        for a in b.from + b.reachable where IPv4Address(a) == nil { throw FaultError.target("'\(a)' is not an IPv4 address") }
        let what = b.everything == true ? "every packet not from loopback (an outage)" : "packets from \(b.from.joined(separator: ", "))"
        return Injection(undo: [.nftDeleteTable(b.table)], summary: "nft table \(b.table) drops \(what)")
    }

    public func apply(_ b: PartitionBlock, _ injection: Injection) throws(FaultError) {
        let rule = b.everything == true ? "iifname != \"lo\" drop" : "ip saddr { \(b.from.joined(separator: ", ")) } drop"
        let script = """
            add table inet \(b.table); \
            add chain inet \(b.table) input { type filter hook input priority -10; policy accept; }; \
            add rule inet \(b.table) input \(rule)
            """
        let r = Spawner.run(.argv(["nft", script]), timeout: 10_000_000_000)
        guard r.status == 0 else { throw FaultError.system("nft: \(r.error ?? r.output.trimmingBlanks)") }
    }

    public func confirm(_ b: PartitionBlock, _ injection: Injection, deadline: Int64) -> Confirmation {
        while true {
            let (cut, open) = Self.check(b)
            let now = MonotonicClock.now()
            if cut.count == b.from.count, open.count == b.reachable.count {
                return Confirmation(
                    ok: true,
                    detail:
                        "cut from \(cut.joined(separator: ", ")); still reaches \(open.isEmpty ? "no other host" : open.joined(separator: ", "))",
                    at: now)
            }
            if now > deadline {
                let notCut = b.from.filter { !cut.contains($0) }
                let notOpen = b.reachable.filter { !open.contains($0) }
                return Confirmation(ok: false, detail: "not cut from \(notCut); unreachable though not cut: \(notOpen)", at: nil)
            }
        }
    }

    /// Which blocked addresses are cut and which reachable ones answer, all probed at once
    /// (a cut peer costs a whole connect timeout).
    static func check(_ b: PartitionBlock) -> (cut: [String], open: [String]) {
        let answered = reachable(b.from + b.reachable)
        return (b.from.filter { !answered.contains($0) }, b.reachable.filter { answered.contains($0) })
    }

    /// The addresses that answer a connect to port 9, all probed at once.
    static func reachable(_ addresses: [String]) -> Set<String> {
        TCPConnect.answering(addresses, port: 9, timeout: confirmConnectTimeout)
    }
}
