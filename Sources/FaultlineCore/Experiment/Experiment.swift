import Foundation

/// A validated experiment: what to observe, what to break, when, and what must hold.
public struct Experiment: Equatable, Sendable {
    public var version: Int
    public var title: String
    public var description: String?
    public var tags: [String]
    public var hosts: [HostSpec]
    public var duration: Nanos
    public var steadyState: [ProbeSpec]
    public var probes: [ProbeSpec]
    public var faults: [FaultStep]
    public var actions: [ActionStep]
    public var rollbacks: [ActionStep]
    public var expectations: [Expectation]
    /// The brake: conditions that, once one holds during the fault phase, stop the run.
    public var stopConditions: [StopCondition] = []
    /// How much of the system may be taken at once (`safety:`).
    public var safety = Safety()
    /// Inventory groups marked as quorums (`faultline_quorum=true`): name → the hosts taken.
    public var quorums: [String: [String]] = [:]
    public var settings: Settings
    /// The lab the experiment runs in, brought up around the run if it is not up yet.
    public var lab: LabSpec?
    /// Groups of the inventory `hosts: {from: …}` named (only the hosts the experiment took).
    public var groups: [String: [String]] = [:]
    public var workload: WorkloadSpec?
    /// Fault proxies started before the steady state (`proxy` faults add toxics to them).
    public var proxies: [ProxyDecl] = []
    /// Log lines of lab services that become named events on the run's clock.
    public var markers: [MarkerSpec] = []
    /// The file the experiment was read from, for messages.
    public var source: String

    public init(
        version: Int = 1, title: String, description: String? = nil, tags: [String] = [],
        hosts: [HostSpec] = [HostSpec.local], duration: Nanos, steadyState: [ProbeSpec] = [],
        probes: [ProbeSpec] = [], faults: [FaultStep] = [], actions: [ActionStep] = [],
        rollbacks: [ActionStep] = [], expectations: [Expectation] = [], settings: Settings = Settings(),
        source: String = "<memory>"
    ) {
        self.version = version
        self.title = title
        self.description = description
        self.tags = tags
        self.hosts = hosts
        self.duration = duration
        self.steadyState = steadyState
        self.probes = probes
        self.faults = faults
        self.actions = actions
        self.rollbacks = rollbacks
        self.expectations = expectations
        self.settings = settings
        self.source = source
    }
}

/// Run-wide knobs with defaults.
public struct Settings: Codable, Equatable, Sendable {
    /// How long a fault may take to show its effect before the run is invalid.
    public var confirmTimeout: Nanos = 2_000_000_000
    /// How long steady-state probes may keep failing after the faults are reverted.
    public var settleTimeout: Nanos = 5_000_000_000
    /// How often the runner renews each agent's lease, and how long a lease lasts: an agent
    /// that hears nothing for `leaseExpiry` reverts everything and exits.
    public var leaseRenew: Nanos = 200_000_000
    public var leaseExpiry: Nanos = 1_000_000_000
    public init() {}
}

/// Where faults happen: this machine, or a host of the experiment's lab (its agent runs inside
/// the host's network, PID and mount namespaces).
public struct HostSpec: Codable, Equatable, Sendable {
    public enum Transport: String, Codable, Sendable {
        case local
        case lab
        case ssh
    }
    public var name: String
    public var transport: Transport
    /// How an `ssh` host is reached.
    public var ssh: SSHTarget?
    public static let local = HostSpec(name: "local", transport: .local)
    public init(name: String, transport: Transport, ssh: SSHTarget? = nil) {
        self.name = name
        self.transport = transport
        self.ssh = ssh
    }
}
