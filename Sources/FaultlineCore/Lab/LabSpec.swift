/// A lab: hosts (network namespaces with their own PID namespaces) on one bridge, each
/// running real services.
public struct LabSpec: Codable, Equatable, Sendable {
    /// Short name; prefixes every kernel object the lab creates (`fl-NAME-br`, `fl-NAME-n1` …).
    public var name: String
    /// Inside 198.18.0.0/15, the benchmarking range.
    public var subnet: IPv4Subnet
    /// The root namespace's address on the bridge: how the runner reaches the hosts.
    public var bridgeAddress: IPv4Address
    public var hosts: [LabHost]
    /// Sets of hosts a majority of which the lab's system needs (`quorums:`); nil for none.
    public var quorums: [String: [String]]?
    public var source: String

    public init(name: String, subnet: IPv4Subnet, bridgeAddress: IPv4Address, hosts: [LabHost], source: String) {
        self.name = name
        self.subnet = subnet
        self.bridgeAddress = bridgeAddress
        self.hosts = hosts
        self.source = source
    }

    /// The kernel object names, derived from the lab name so two labs never collide.
    public var bridgeName: String { "fl-\(name)-br" }
    public func namespaceName(_ host: LabHost) -> String { "fl-\(name)-\(host.name)" }
    /// The root-side end of a host's veth pair (interface names are limited to 15 bytes).
    public func vethName(index: Int) -> String { "fl-\(name)-\(index + 1)" }
}

public struct LabHost: Codable, Equatable, Sendable {
    public var name: String
    public var address: IPv4Address
    public var group: String?
    public var region: String?
    /// Paths that get a fresh tmpfs inside the host (default `/run`).
    public var privateDirs: [String]
    /// `disks:` filesystems of a fixed size (a tmpfs with `size=`) at paths inside the private
    /// directories: a small data disk, to be filled.
    public var disks: [String: UInt64]?
    /// Files written into the host's data directory before its services start.
    public var files: [String: String]
    public var services: [LabService]
    /// The host's data directory (`{dir}`), where a clock control file lives.
    public var dataDir: String?

    /// The libfaketime control file of a host with a service under `clock: faketime`.
    public var clockFile: String? {
        guard services.contains(where: { $0.faketime == true }), let d = dataDir else { return nil }
        return "\(d)/\(Faketime.controlFileName)"
    }

    public init(
        name: String, address: IPv4Address, group: String? = nil, region: String? = nil, privateDirs: [String] = ["/run"],
        files: [String: String] = [:], services: [LabService] = []
    ) {
        self.name = name
        self.address = address
        self.group = group
        self.region = region
        self.privateDirs = privateDirs
        self.files = files
        self.services = services
    }
}

/// When a lab's supervisor starts a service again, and after what pause.
public struct LabRestart: Codable, Equatable, Sendable {
    /// `always`, or `on-failure` (not after an exit with status 0).
    public var always: Bool
    public var delay: Nanos

    public init(always: Bool, delay: Nanos) {
        self.always = always
        self.delay = delay
    }
}

public struct LabService: Codable, Equatable, Sendable {
    public var name: String
    /// Runs under libfaketime, its wall clock offset by the host's control file (`clock: faketime`).
    public var faketime: Bool?
    public var argv: [String]
    public var env: [String: String]
    /// Working directory; default the host's data directory.
    public var dir: String?
    /// Log file (relative paths are in the host's data directory); default `NAME.log`.
    public var log: String
    /// Checked from the root namespace until it passes or `readyWithin` ends.
    public var ready: ProbeSpec?
    public var readyWithin: Nanos
    /// `cgroup: true`: the service runs in a cgroup of its own (`faultline-lab-LAB/HOST-NAME`),
    /// as a systemd unit does, so that a limit fault can act on it alone.
    public var cgroup: Bool?
    /// `restart:` faultline's supervisor starts the service again when it exits, as systemd's
    /// `Restart=` does; nil: nobody does.
    public var restart: LabRestart?

    public init(
        name: String, argv: [String], env: [String: String] = [:], dir: String? = nil, log: String? = nil, ready: ProbeSpec? = nil,
        readyWithin: Nanos = 15_000_000_000
    ) {
        self.name = name
        self.argv = argv
        self.env = env
        self.dir = dir
        self.log = log ?? "\(name).log"
        self.ready = ready
        self.readyWithin = readyWithin
    }
}
