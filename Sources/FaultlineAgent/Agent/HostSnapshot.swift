import FaultlineEssentials

/// What a host looked like before the first injection, compared after everything is reverted.
///
/// Differences are residue: something changed during the run and is not back as it was.
public struct HostSnapshot: Equatable, Sendable {
    public var links: Set<String>
    public var qdiscs: Set<QdiscEntry>
    /// `FAMILY NAME` of every nft table, or nil when nft could not be asked.
    public var nftTables: Set<String>?
    /// Processes stopped (state T) in this PID namespace.
    public var stopped: Set<ProcessRef>

    public init(links: Set<String>, qdiscs: Set<QdiscEntry>, nftTables: Set<String>? = nil, stopped: Set<ProcessRef> = []) {
        self.links = links
        self.qdiscs = qdiscs
        self.nftTables = nftTables
        self.stopped = stopped
    }

    /// Every process in state T, by identity.
    static func stoppedProcesses() -> Set<ProcessRef> {
        Set(
            ProcFS.pids().compactMap { pid in
                guard let s = ProcFS.stat(pid), s.state == "T" else { return nil }
                return ProcessRef(pid: pid, startTime: s.startTime, name: s.comm)
            })
    }

    /// The nft tables, as `inet faultline_…` (one netlink dump; nothing is spawned).
    static func nftTables() -> Set<String>? { NetfilterTables.list() }

    /// Reads the host's state; a part that cannot be read is left empty and noted in `problems`.
    ///
    /// Stopped processes are compared only with `ownPIDNamespace` (a lab host): in the root
    /// namespace /proc shows every stopped process of the machine, other runs' included.
    public static func take(ownPIDNamespace: Bool = false) -> (HostSnapshot, problems: [String]) {
        var (s, problems) = readNetwork()
        s.stopped = ownPIDNamespace ? stoppedProcesses() : []
        return (s, problems)
    }

    private static func readNetwork() -> (HostSnapshot, problems: [String]) {
        do throws(NetlinkError) {
            let (links, qdiscs) = try NetlinkRoute().linksAndQdiscs()
            return (HostSnapshot(links: Set(links), qdiscs: Set(qdiscs), nftTables: nftTables()), [])
        } catch {
            return (HostSnapshot(links: [], qdiscs: [], nftTables: nftTables()), ["qdiscs not compared: \(error)"])
        }
    }

    /// Human lines for what differs from `before`.
    ///
    /// Only links present in both snapshots are compared: an interface created or deleted
    /// meanwhile (by a container runtime, a VPN, another test) is not this run's doing. Only
    /// configured qdiscs (a non-zero handle) count: the kernel attaches a default one (handle
    /// 0:, noqueue or pfifo_fast) whenever any link goes up, and faultline never makes those.
    public func differences(from before: HostSnapshot) -> [String] {
        let links = self.links.intersection(before.links)
        let now = qdiscs.filter { links.contains($0.link) && $0.handle != 0 }
        let then = before.qdiscs.filter { links.contains($0.link) && $0.handle != 0 }
        let added = now.subtracting(then).sorted { $0.description < $1.description }
        let removed = then.subtracting(now).sorted { $0.description < $1.description }
        var lines = added.map { "qdisc added: \($0)" } + removed.map { "qdisc removed: \($0)" }
        if let now = nftTables, let then = before.nftTables {
            lines += now.subtracting(then).sorted().map { "nft table added: \($0)" }
            lines += then.subtracting(now).sorted().map { "nft table removed: \($0)" }
        }
        // Still stopped now and not before (and alive: identity includes the start time).
        lines += stopped.subtracting(before.stopped).filter(ProcFS.isAlive).sorted { $0.pid < $1.pid }.map { "process \($0) is stopped" }
        return lines
    }
}
