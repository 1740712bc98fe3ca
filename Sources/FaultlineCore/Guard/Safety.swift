import Yams

/// `safety:`: how much of the system the experiment may take at once. Hosts are taken by the
/// faults holding at an instant (a kill for its blame window); a quorum is a set of hosts of
/// which a majority must stay up and connected, named here, in the lab file (`quorums:`) or in
/// the inventory (a group with `faultline_quorum=true`).
public struct Safety: Equatable, Sendable {
    /// At most this many hosts taken at once.
    public var maxHosts: Int?
    /// At most this share of any group or quorum taken at once.
    public var maxShare: Double?
    /// Quorum name → its hosts (the experiment's own, added to the lab's and the inventory's).
    public var quorums: [String: [String]] = [:]
    /// The experiment means to take a quorum's majority (`quorum_loss: intended`).
    public var quorumLossIntended = false

    public init() {}

    public var isEmpty: Bool { maxHosts == nil && maxShare == nil && quorums.isEmpty && !quorumLossIntended }

    static let keys = ["max_hosts", "max_share", "quorums", "quorum_loss"]

    static func read(_ node: Node, _ r: NodeReader) -> Safety {
        var s = Safety()
        guard let f = r.fields(node, path: "safety", allowed: keys) else { return s }
        s.maxHosts = r.int(f, "max_hosts", range: 1...100_000)
        s.maxShare = r.percent(f, "max_share")
        if let share = s.maxShare, share <= 0 {
            r.error(f.values["max_share"], "'safety.max_share' must be more than 0%")
            s.maxShare = nil
        }
        if let q = f.values["quorums"] { s.quorums = readQuorums(q, path: "safety.quorums", r) }
        if let v = r.string(f, "quorum_loss") {
            if v == "intended" {
                s.quorumLossIntended = true
            } else {
                r.error(
                    f.values["quorum_loss"],
                    "'safety.quorum_loss' must be 'intended' (the experiment means to take a quorum's majority), got \(shown: v)")
            }
        }
        return s
    }

    /// `quorums: {NAME: [host, …]}`, in an experiment or a lab file: at least two hosts each,
    /// each one of `known` when given (the lab's hosts; an experiment's are checked once its
    /// lab is read, at the paths remembered here).
    static func readQuorums(_ node: Node, path: String, _ r: NodeReader, known: [String]? = nil) -> [String: [String]] {
        guard case .mapping(let m) = node else {
            r.error(node, "'\(path)' must map quorum names to lists of hosts, got \(NodeReader.describe(node))")
            return [:]
        }
        var out: [String: [String]] = [:]
        for (k, v) in m {
            let name = k.string ?? ""
            r.remember("\(path).\(name)", v)
            let hosts = r.stringList(v, path: "\(path).\(name)") ?? []
            if let known {
                for h in hosts where !known.contains(h) {
                    r.error(v, "'\(path).\(name)' names \(shown: h), which is not a host of the lab \(Suggest.hint(for: h, in: known))")
                }
            }
            if Set(hosts).count < 2 {
                r.error(v, "'\(path).\(name)' must list at least two distinct hosts (a quorum of one is a host), got \(hosts.count)")
                continue
            }
            out[name] = hosts
        }
        return out
    }
}
