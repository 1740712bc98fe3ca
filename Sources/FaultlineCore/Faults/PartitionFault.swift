import Yams

/// `partition`: cut lab hosts apart. Each host with a grudge drops its peers' packets in an nft
/// table of its own; confirmed, and healed, by TCP connects between the hosts.
public struct PartitionFault: FaultKindReader, Equatable {
    public static let key = "partition"
    public static let summary =
        "cut lab hosts apart (groups, isolate, from/to, outage, shape: halves | majorities-ring | bridge; region:NAME for a region's hosts) with nft tables in the hosts; confirmed and healed by TCP connects"
    public static let fields = ["groups", "isolate", "from", "to", "outage", "shape", "seed"]
    public static let holding = FaultHolding.held(durationRequired: false)

    public var shape: Shape
    /// Seeds the generated shapes, so a run can be repeated exactly.
    public var seed: UInt64
    /// `isolate: {role, resolve}`: the host to isolate is found when the fault fires (a Raft
    /// leader, a primary), and `shape` is bound to it then.
    public var isolateRole: RoleTarget?

    public init(shape: Shape, seed: UInt64 = 0, isolateRole: RoleTarget? = nil) {
        self.shape = shape
        self.seed = seed
        self.isolateRole = isolateRole
    }

    public var target: String {
        if let r = isolateRole { return "isolate role '\(r.role)'" }
        switch shape {
        case .halves, .majoritiesRing, .bridge: return "\(shape.summary) (seed \(seed))"
        default: return shape.summary
        }
    }
    public var role: RoleTarget? { isolateRole }
    public func onHost(_ host: String) -> PartitionFault { PartitionFault(shape: .isolate(host), seed: seed) }
    /// Two partitions would combine into a cut nobody wrote.
    public var exclusion: FaultExclusion? { FaultExclusion(key: Self.key, what: "another partition") }
    /// Any lab host may turn out to hold the role, and every other one then drops it.
    public func hosts(in hosts: HostSet) -> [String] {
        isolateRole == nil ? grudges(among: hosts.peerHosts, sets: hosts).keys.sorted() : hosts.peerHosts
    }

    /// A partition takes nobody down: it takes whoever it cuts off from the rest of a group.
    public func impact(in hosts: HostSet) -> FaultImpact {
        var cuts = grudges(among: hosts.peerHosts, sets: hosts)
        for h in outageHosts(sets: hosts) { cuts[h] = hosts.peerHosts.filter { $0 != h } }
        return .cuts(cuts)
    }

    public func describe(_ step: FaultStep, _ hosts: HostSet) -> String {
        if let r = isolateRole {
            return
                "partition [\(step.name)]: isolate the host of role '\(r.role)' (found by '\(r.resolve)' when the fault fires) from the other lab hosts"
        }
        let outage = outageHosts(sets: hosts)
        let g = grudges(among: hosts.peerHosts, sets: hosts).sorted { $0.key < $1.key }.map {
            outage.contains($0.key) ? "\($0.key) drops everything" : "\($0.key) drops \($0.value.joined(separator: ","))"
        }
        return "partition [\(step.name)]: \(g.joined(separator: "; "))"
    }

    public func describeRevert(_ step: FaultStep) -> String { "heal '\(step.name)' (remove its nft tables)" }

    /// Partitions act among lab hosts and ssh hosts with IPv4 addresses, never on this machine
    /// (cutting it would cut the runner); each host drops only its peers' addresses, so the
    /// runner's own path to every host stays up.
    public func validate(_ step: FaultStep, _ v: FaultValidation) {
        let labHosts = v.hosts.peerHosts
        let path = "\(v.path).\(Self.key)"
        if labHosts.count < 2 {
            v.error(at: path, "a partition needs at least two lab hosts (name a lab with 'lab:') or ssh hosts with IPv4 addresses")
            return
        }
        for h in Set(namedHosts(among: labHosts)).sorted() where isolateRole == nil {
            if let problem = v.hosts.problem(h, path: path) { v.error(at: path, problem) }
        }
        isolateRole?.validate(v, path: "\(path).isolate", allowed: labHosts, what: "a lab host or an ssh host with an IPv4 address")
        if case .outage = shape, outageHosts(sets: v.hosts).count >= labHosts.count {
            v.error(at: path, "'\(path).outage' cuts off every lab host: leave some to take over")
        }
        switch shape {
        case .bridge, .majoritiesRing:
            if labHosts.count < 3 { v.error(at: path, "'\(path)': this shape needs at least three lab hosts") }
        case .groups(let groups):
            let all = groups.flatMap { $0 }
            if Set(all).count != all.count { v.error(at: path, "'\(path).groups' lists a host in more than one group") }
        default: break
        }
    }

    /// One of `groups`, `isolate`, `from`+`to`, or a generated `shape` (with an optional `seed`).
    static func read(_ node: Node, path: String, reader r: NodeReader) -> PartitionFault? {
        guard let f = r.fields(node, path: path, allowed: fields) else { return nil }
        let forms = [["groups"], ["isolate"], ["from", "to"], ["outage"], ["shape"]].filter { $0.contains { f.has($0) } }
        guard forms.count == 1, let form = forms.first else {
            r.error(node, "'\(path)' takes one of: groups, isolate, from and to, outage, shape (\(shapeNames.joined(separator: ", ")))")
            return nil
        }
        let seed = r.int(f, "seed", range: 0...Int.max).map { UInt64($0) } ?? 0
        if f.has("seed"), form != ["shape"] { r.error(f.keys["seed"], "'\(path).seed' only applies to a generated 'shape'") }
        let shape: Shape?
        switch form {
        case ["groups"]:
            shape = groups(f.values["groups"], path: f.child("groups"), reader: r).map { .groups($0) }
        case ["isolate"]:
            if let n = f.values["isolate"], case .mapping = n {
                guard let role = RoleTarget.read(n, path: f.child("isolate"), reader: r) else { return nil }
                return PartitionFault(shape: .isolate(""), isolateRole: role)
            }
            shape = r.string(f, "isolate").map { .isolate($0) }
        case ["outage"]:
            shape = hostList(f, "outage", reader: r).map { .outage($0) }
        case ["from", "to"]:
            let from = hostList(f, "from", reader: r)
            let to = hostList(f, "to", reader: r)
            guard let from, let to else { return nil }
            shape = .oneWay(from: from, to: to)
        default:
            shape = generated(f, path: path, reader: r)
        }
        return shape.map { PartitionFault(shape: $0, seed: seed) }
    }

    static func generated(_ f: Fields, path: String, reader r: NodeReader) -> Shape? {
        let name = r.string(f, "shape") ?? ""
        switch name {
        case "halves": return .halves
        case "majorities-ring": return .majoritiesRing
        case "bridge": return .bridge
        default:
            r.error(
                f.values["shape"],
                "'\(path).shape' must be one of \(shapeNames.joined(separator: ", ")), got \(shown: name) \(Suggest.hint(for: name, in: shapeNames))"
            )
            return nil
        }
    }

    /// A host name or a list of them.
    static func hostList(_ f: Fields, _ key: String, reader: NodeReader) -> [String]? {
        guard let node = f.value(key, required: true, reader: reader) else { return nil }
        if case .scalar(let s) = node { return [s.string] }
        return reader.stringList(node, path: f.child(key))
    }

    static func groups(_ node: Node?, path: String, reader: NodeReader) -> [[String]]? {
        guard let node, case .sequence(let outer) = node, outer.count >= 2 else {
            reader.error(node, "'\(path)' must be a list of at least two host lists, like [[n1], [n2, n3]]")
            return nil
        }
        var out: [[String]] = []
        for (i, g) in outer.enumerated() {
            guard let hosts = reader.stringList(g, path: "\(path)[\(i)]") else { return nil }
            out.append(hosts)
        }
        return out
    }
}
