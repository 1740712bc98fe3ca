import FaultlineCore

/// What a host looked like before the first injection, compared after everything is reverted.
///
/// Differences are residue: something changed during the run and is not back as it was.
public struct HostSnapshot: Equatable, Sendable {
    public var qdiscs: Set<QdiscEntry>

    /// Reads the host's state; a part that cannot be read is left empty and noted in `problems`.
    public static func take() -> (HostSnapshot, problems: [String]) {
        do throws(NetlinkError) {
            return (HostSnapshot(qdiscs: Set(try NetlinkRoute().qdiscs())), [])
        } catch {
            return (HostSnapshot(qdiscs: []), ["qdiscs not compared: \(error)"])
        }
    }

    /// Human lines for what differs from `before`.
    public func differences(from before: HostSnapshot) -> [String] {
        let added = qdiscs.subtracting(before.qdiscs).sorted { $0.description < $1.description }
        let removed = before.qdiscs.subtracting(qdiscs).sorted { $0.description < $1.description }
        return added.map { "qdisc added: \($0)" } + removed.map { "qdisc removed: \($0)" }
    }
}
