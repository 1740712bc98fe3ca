import FoundationEssentials

/// The processes a process fault (kill, pause) acts on: a host, or a role resolved when the
/// fault fires, a selector, and how many of the matches it takes.
public struct ProcessTarget: Codable, Equatable, Sendable {
    public var host: String
    /// `host: [a, b, …]`: the same processes on each of these hosts, all at once (one fault,
    /// one instant); `host` is then the first of them.
    public var fanOut: [String]?
    /// When set, `host` is filled in at the instant the fault fires.
    public var role: RoleTarget?
    public var selector: ProcessSelector
    public var multiplicity: Multiplicity
    /// `blast_radius: host`: the file says that the selector may take every process of the host.
    public var wholeHost: Bool

    public init(
        host: String = "local", role: RoleTarget? = nil, selector: ProcessSelector, multiplicity: Multiplicity = .one,
        wholeHost: Bool = false
    ) {
        self.host = host
        self.role = role
        self.selector = selector
        self.multiplicity = multiplicity
        self.wholeHost = wholeHost
    }

    /// `web1`, or how the host will be found.
    package var whereText: String {
        if let many = fanOut { return many.joined(separator: ", ") }
        guard let r = role else { return host }
        return "the host with role \(shown: r.role) (resolved when the fault fires by: \(r.resolve))"
    }
}

/// A host chosen when the fault fires: `resolve` prints a host name or a lab host's address
/// (e.g. Sentinel's `get-master-addr-by-name`); the first one it names is the target.
public struct RoleTarget: Codable, Equatable, Sendable {
    public var role: String
    public var resolve: CommandSpec
    /// A lab host to run `resolve` on (inside its namespaces); nil runs it where the runner is.
    public var on: String?
    /// The hosts the role may resolve to (names, `group:NAME`, `region:NAME`); nil: the fault
    /// kind's default (every lab and ssh host for a process fault, every peer host for a
    /// partition). Each candidate gets its agent before the run; an answer naming a host
    /// outside them is refused when the fault fires.
    public var among: [String]?

    public init(role: String, resolve: CommandSpec, on: String? = nil, among: [String]? = nil) {
        self.role = role
        self.resolve = resolve
        self.on = on
        self.among = among
    }

}
