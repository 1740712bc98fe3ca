/// How a fault kind occupies the timeline.
public enum FaultHolding: Sendable, Equatable {
    /// Happens at `at` and is not undone (a kill); `duration` only sets the window it is blamed for.
    case instant
    /// Holds from `at` for `duration` and is reverted then. Without a duration it holds to the
    /// end of the fault phase, unless `durationRequired`.
    case held(durationRequired: Bool)
}

/// One fault kind, as experiments write it: its key, its fields, and everything the rest of
/// faultline needs to know about it without knowing which kind it is.
///
/// A kind is one type in FaultlineCore (this protocol, plus ``FaultKindReader`` for reading
/// its fields) and one driver in FaultlineLinux; ``FaultKinds`` lists the kinds. Nothing else
/// switches over kinds.
public protocol FaultKind: Codable, Sendable {
    /// The key that names the kind in experiment files (`kill`).
    static var key: String { get }
    /// One line for `list-faults`: what it does and how it is confirmed.
    static var summary: String { get }
    /// The keys its mapping takes, for `list-faults`.
    static var fields: [String] { get }
    static var holding: FaultHolding { get }
    /// Whether what it takes can be replaced by a new process (`healed` expectations).
    static var replacesProcesses: Bool { get }

    /// What it acts on, for the journal's `target` and for messages.
    var target: String { get }
    /// A host chosen when the fault fires, if the kind was given one.
    var role: RoleTarget? { get }
    /// The same fault bound to the host its role resolved to.
    func onHost(_ host: String) -> Self
    /// The hosts whose agents it may need, started before anything is injected.
    func hosts(in hosts: HostSet) -> [String]
    /// Faults with equal exclusion keys may not hold at the same time.
    var exclusion: FaultExclusion? { get }
    /// The processes a kill took, looked for again by `healed`.
    var replaceable: ProcessSelector? { get }
    /// The processes it acts on, for kinds that act on processes (`plan` shows what they match).
    var processes: ProcessTarget? { get }
    /// Checks against the rest of the experiment; problems go to `v`.
    func validate(_ step: FaultStep, _ v: FaultValidation)
    /// What it takes from the system while it holds, for the blast-radius and quorum guard.
    func impact(in hosts: HostSet) -> FaultImpact
    /// The plan's line for its injection.
    func describe(_ step: FaultStep, _ hosts: HostSet) -> String
    /// The plan's line for its revert (held kinds only).
    func describeRevert(_ step: FaultStep) -> String
    /// Equality across the existential (`Equatable` cannot be a requirement of an existential).
    func isEqual(_ other: any FaultKind) -> Bool
}

/// What a fault takes from the system while it holds (`safety:`, the quorum guard).
public enum FaultImpact: Sendable, Equatable {
    /// These hosts are down or stopped: taken from every group and quorum they are in.
    case hosts([String])
    /// These hosts are slowed or lossy: counted against `max_hosts` and `max_share`, not against
    /// a quorum (a slow member still votes; a cut is a partition).
    case degraded([String])
    /// Who drops whose packets (a partition): a host cut off from a group's largest connected
    /// part is taken from that group.
    case cuts([String: [String]])
}

extension FaultKind {
    /// The hosts it acts on are the hosts it takes.
    public func impact(in hosts: HostSet) -> FaultImpact { .hosts(self.hosts(in: hosts)) }
    public static var replacesProcesses: Bool { false }
    public var role: RoleTarget? { nil }
    public func onHost(_ host: String) -> Self { self }
    public var replaceable: ProcessSelector? { nil }
    public var processes: ProcessTarget? { nil }
    public func describeRevert(_ step: FaultStep) -> String { "revert '\(step.name)'" }
}

extension FaultKind where Self: Equatable {
    public func isEqual(_ other: any FaultKind) -> Bool { (other as? Self) == self }
}

/// The group a fault belongs to for the overlap check, and how messages name it.
public struct FaultExclusion: Sendable, Hashable {
    public var key: String
    /// `the same processes (name 'x') of host 'h'`, `another partition`.
    public var what: String

    public init(key: String, what: String) {
        self.key = key
        self.what = what
    }
}

/// The experiment's hosts, as fault kinds see them.
public struct HostSet: Sendable {
    public var all: [HostSpec]
    /// Lab host name → address.
    public var addresses: [String: String]
    /// Proxy name → the host whose agent runs it.
    public var proxies: [String: String]
    /// Region → its lab hosts (the lab file's `region` labels), in the lab's order.
    public var regions: [String: [String]]
    /// Inventory group → its hosts (`group:NAME`).
    public var groups: [String: [String]] = [:]
    /// Lab host → its libfaketime control file (hosts with a service under `clock: faketime`).
    public var clockFiles: [String: String] = [:]

    public init(all: [HostSpec], addresses: [String: String] = [:], proxies: [String: String] = [:], regions: [String: [String]] = [:]) {
        self.all = all
        self.addresses = addresses
        self.proxies = proxies
        self.regions = regions
    }

    public init(_ e: Experiment) {
        var regions: [String: [String]] = [:]
        for h in e.lab?.hosts ?? [] { if let r = h.region { regions[r, default: []].append(h.name) } }
        // Lab hosts by their lab address; ssh hosts by theirs when it is an IPv4 address.
        var addresses = Dictionary(uniqueKeysWithValues: (e.lab?.hosts ?? []).map { ($0.name, $0.address.description) })
        for h in e.hosts where h.transport == .ssh {
            if let a = h.ssh?.host, IPv4Address(a) != nil { addresses[h.name] = a }
        }
        self.init(
            all: e.hosts, addresses: addresses,
            proxies: Dictionary(e.proxies.map { ($0.name, $0.host) }, uniquingKeysWith: { a, _ in a }), regions: regions)
        groups = e.groups
        for h in e.lab?.hosts ?? [] { if let f = h.clockFile { clockFiles[h.name] = f } }
    }

    /// `region:NAME` names every lab host of that region; any other name, itself. Nil for a
    /// region the lab does not have.
    public func members(_ name: String) -> [String]? {
        if name.hasPrefix(Self.groupPrefix) { return groups[String(name.dropFirst(Self.groupPrefix.count))] }
        guard name.hasPrefix(Self.regionPrefix) else { return [name] }
        return regions[String(name.dropFirst(Self.regionPrefix.count))]
    }

    public static let regionPrefix = "region:"
    public static let groupPrefix = "group:"

    /// Whether a name stands for several hosts (`region:NAME`, `group:NAME`).
    public static func isSet(_ name: String) -> Bool { name.hasPrefix(regionPrefix) || name.hasPrefix(groupPrefix) }

    /// The names with each `region:NAME` replaced by its hosts (unknown regions dropped).
    public func expand(_ names: [String]) -> [String] {
        var out: [String] = []
        for n in names { for m in members(n) ?? [] where !out.contains(m) { out.append(m) } }
        return out
    }

    /// The problem with a host name a fault gives: not a lab host, or a region the lab lacks.
    public func problem(_ name: String, path: String) -> String? {
        if name.hasPrefix(Self.groupPrefix) {
            let g = String(name.dropFirst(Self.groupPrefix.count))
            return groups[g] == nil
                ? "'\(path)' names \(shown: name), but no inventory group of that name was taken \(Suggest.hint(for: g, in: groups.keys.sorted()))"
                : nil
        }
        if name.hasPrefix(Self.regionPrefix) {
            return members(name) == nil
                ? "'\(path)' names \(shown: name), but the lab has no such region \(Suggest.hint(for: String(name.dropFirst(Self.regionPrefix.count)), in: regions.keys.sorted()))"
                : nil
        }
        return peerHosts.contains(name)
            ? nil
            : "'\(path)' names \(shown: name), which is not a lab host or an ssh host with an IPv4 address \(Suggest.hint(for: name, in: peerHosts))"
    }

    public var names: [String] { all.map(\.name) }
    public var labHosts: [String] { all.filter { $0.transport == .lab }.map(\.name) }
    /// Lab hosts and ssh hosts: every host that is not this machine.
    public var remoteHosts: [String] { all.filter { $0.transport == .lab || $0.transport == .ssh }.map(\.name) }
    /// Hosts with an address other hosts reach them at, so faults can cut or slow the traffic
    /// between them: lab hosts, and ssh hosts whose address is an IPv4 address.
    public var peerHosts: [String] {
        all.filter { $0.transport == .lab || ($0.transport == .ssh && addresses[$0.name] != nil) }.map(\.name)
    }
}

/// What a fault kind's `validate` reports problems to: key paths, hints, and the experiment.
public struct FaultValidation {
    public let experiment: Experiment
    /// The fault's key path, `faults[3]`.
    public let path: String
    let reader: NodeReader

    public var hosts: HostSet { HostSet(experiment) }

    /// Reports a problem at the position `path` (a key path) was read from.
    public func error(at path: String, _ message: String) { reader.error(path: path, message) }

    /// Reports `host` at `path` unless the experiment declares it.
    public func knownHost(_ host: String, at path: String) {
        let names = hosts.names
        if !names.contains(host) { error(at: path, "unknown host \(shown: host) in '\(path)' \(Suggest.hint(for: host, in: names))") }
    }

    /// Whether `path` was written in the file (it may be absent, or present but unreadable).
    public func wasWritten(_ path: String) -> Bool { reader.marks[path] != nil }
}
