/// One fault on the experiment's timeline.
public struct FaultStep: Codable, Equatable, Sendable {
    public var name: String
    /// Offset from the start of the fault phase.
    public var at: Nanos
    /// How long the fault holds; `nil` for instantaneous faults (then the window runs to the end).
    public var duration: Nanos?
    public var spec: FaultSpec

    public init(name: String, at: Nanos, duration: Nanos? = nil, spec: FaultSpec) {
        self.name = name
        self.at = at
        self.duration = duration
        self.spec = spec
    }

    /// The window the fault is attributed to, clamped to the experiment's duration.
    public func window(experimentDuration: Nanos) -> Range<Nanos> {
        let end = duration.map { at + $0 } ?? experimentDuration
        return at..<max(at, min(end, experimentDuration))
    }
}

/// What a fault does, as data: the runner and (later) a host agent receive exactly this.
public enum FaultSpec: Codable, Equatable, Sendable {
    case kill(ProcessFault)
    case pause(ProcessFault)
    /// Among lab hosts; the runner turns it into one `block` per host with a grudge.
    case partition(PartitionSpec)
    /// One host's part of a partition (what an agent receives).
    case block(BlockSpec)

    /// The kind's name as written in experiment files.
    public var kind: String {
        switch self {
        case .kill: return "kill"
        case .pause: return "pause"
        case .partition: return "partition"
        case .block: return "block"
        }
    }

    /// The host a single-host fault acts on; empty for a partition, which spans hosts.
    public var host: String {
        switch self {
        case .kill(let p), .pause(let p): return p.host
        case .partition: return ""
        case .block(let b): return b.host
        }
    }

    /// The fault kinds an experiment may name.
    public static let kinds = ["kill", "pause", "partition"]
}

/// A host chosen when the fault fires: `resolve` prints a host name or a lab host's address
/// (e.g. Sentinel's `get-master-addr-by-name`); the first one it names is the target.
public struct RoleTarget: Codable, Equatable, Sendable {
    public var role: String
    public var resolve: CommandSpec
    /// A lab host to run `resolve` on (inside its namespaces); nil runs it where the runner is.
    public var on: String?

    public init(role: String, resolve: CommandSpec, on: String? = nil) {
        self.role = role
        self.resolve = resolve
        self.on = on
    }
}

/// A fault that signals processes.
public struct ProcessFault: Codable, Equatable, Sendable {
    public var host: String = "local"
    /// When set, `host` is filled in at the instant the fault fires.
    public var role: RoleTarget?
    public var selector: ProcessSelector
    public var multiplicity: Multiplicity = .one
    /// Signal number; `pause` always uses SIGSTOP/SIGCONT.
    public var signal: Int32
    public var signalName: String

    public init(selector: ProcessSelector, signal: Int32 = 15, signalName: String = "TERM") {
        self.selector = selector
        self.signal = signal
        self.signalName = signalName
    }
}

/// A command run at an offset (an action) or after revert (a rollback).
public struct ActionStep: Codable, Equatable, Sendable {
    public var name: String
    public var at: Nanos
    public var command: CommandSpec
    public var timeout: Nanos
    /// A lab host to run the command on (inside its namespaces); nil runs it where the runner is.
    public var on: String?

    public init(name: String, at: Nanos = 0, command: CommandSpec, timeout: Nanos = 30_000_000_000, on: String? = nil) {
        self.name = name
        self.at = at
        self.command = command
        self.timeout = timeout
        self.on = on
    }
}

/// Signal names faults accept, Linux numbering.
public enum Signals {
    public static let byName: [String: Int32] = [
        "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "BUS": 7, "FPE": 8, "KILL": 9,
        "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15, "CHLD": 17, "CONT": 18,
        "STOP": 19, "TSTP": 20, "TTIN": 21, "TTOU": 22, "XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27,
        "WINCH": 28, "IO": 29, "PWR": 30, "SYS": 31,
    ]
}
