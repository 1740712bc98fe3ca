import FaultlineCore

/// What a host looked like before the first injection, compared after everything is reverted.
///
/// Differences are residue: something changed during the run and is not back as it was.
public struct HostSnapshot: Equatable, Sendable {
    public var links: Set<String>
    public var qdiscs: Set<QdiscEntry>

    public init(links: Set<String>, qdiscs: Set<QdiscEntry>) {
        self.links = links
        self.qdiscs = qdiscs
    }

    /// Reads the host's state; a part that cannot be read is left empty and noted in `problems`.
    public static func take() -> (HostSnapshot, problems: [String]) {
        do throws(NetlinkError) {
            let (links, qdiscs) = try NetlinkRoute().linksAndQdiscs()
            return (HostSnapshot(links: Set(links), qdiscs: Set(qdiscs)), [])
        } catch {
            return (HostSnapshot(links: [], qdiscs: []), ["qdiscs not compared: \(error)"])
        }
    }

    /// Human lines for what differs from `before`.
    ///
    /// Only links present in both snapshots are compared: an interface created or deleted
    /// meanwhile (by a container runtime, a VPN, another test) is not this run's doing.
    public func differences(from before: HostSnapshot) -> [String] {
        let links = self.links.intersection(before.links)
        let now = qdiscs.filter { links.contains($0.link) }
        let then = before.qdiscs.filter { links.contains($0.link) }
        let added = now.subtracting(then).sorted { $0.description < $1.description }
        let removed = then.subtracting(now).sorted { $0.description < $1.description }
        return added.map { "qdisc added: \($0)" } + removed.map { "qdisc removed: \($0)" }
    }
}
