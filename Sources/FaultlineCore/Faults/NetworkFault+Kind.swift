import Yams

extension NetworkFault: FaultKindReader {
    public static let summary =
        "delay (jitter, correlation, distribution), loss, duplicate, corrupt, reorder and rate on a host's traffic, filtered by destination, port, protocol and direction; engine netem or queue"

    public static let fields = [
        "host", "device", "to", "port", "protocol", "direction", "delay", "jitter", "correlation", "distribution", "loss", "duplicate",
        "corrupt", "reorder", "rate", "engine",
    ]

    public static let holding = FaultHolding.held(durationRequired: false)

    public var target: String { "\(device ?? "eth0") \(filter.summary): \(shaping.summary)" }

    public var exclusion: FaultExclusion? {
        FaultExclusion(key: "network \(host) \(device ?? "eth0")", what: "the traffic of \(device ?? "eth0") on host '\(host)'")
    }

    public func hosts(in hosts: HostSet) -> [String] { [host] }

    /// Its host is slowed or lossy, not taken: see ``FaultImpact/degraded(_:)``.
    public func impact(in hosts: HostSet) -> FaultImpact { .degraded([host]) }

    public func describe(_ step: FaultStep, _ hosts: HostSet) -> String {
        "network on \(host) (\(device ?? "eth0")), \(filter.summary): \(shaping.summary), engine \(engine.rawValue) [\(step.name)]"
    }

    public func describeRevert(_ step: FaultStep) -> String { "restore the traffic '\(step.name)' degraded" }

    public func validate(_ step: FaultStep, _ v: FaultValidation) {
        let hosts = v.hosts
        let path = "\(v.path).\(Self.key)"
        if !hosts.names.contains(host) {
            v.error(at: "\(path).host", "unknown host \(shown: host) in '\(path).host' \(Suggest.hint(for: host, in: hosts.names))")
        } else if device == nil, !hosts.labHosts.contains(host) {
            v.error(at: path, "'\(path)' on host \(shown: host), which is not a lab host, needs 'device': the interface to degrade")
        }
        // On a host reached over SSH, an unfiltered fault would degrade faultline's own path to
        // it (and a heavy loss cut it, ending the run's control of the host): refused.
        if v.experiment.hosts.first(where: { $0.name == host })?.transport == .ssh, filter.peers.isEmpty {
            v.error(
                at: path,
                "'\(path)' on ssh host \(shown: host) names no 'to': it would degrade faultline's own SSH path to the host; name the peers to degrade with 'to'"
            )
        }
        for name in filter.hostNames where name.hasPrefix(HostSet.regionPrefix) {
            if let problem = hosts.problem(name, path: "\(path).to") { v.error(at: "\(path).to", problem) }
        }
        for name in filter.hostNames where !name.hasPrefix(HostSet.regionPrefix) && !hosts.peerHosts.contains(name) {
            v.error(
                at: "\(path).to",
                "'\(path).to' names \(shown: name), which is neither a lab host, an ssh host with an IPv4 address, nor an address or network \(Suggest.hint(for: name, in: hosts.peerHosts))"
            )
        }
    }

    static func read(_ node: Node, path: String, reader r: NodeReader) -> NetworkFault? {
        let errorsBefore = r.diagnostics.count
        guard let f = r.fields(node, path: path, allowed: fields) else { return nil }
        let host = r.string(f, "host", required: true)
        let device = r.string(f, "device")
        if let d = device, !isInterfaceName(d) {
            r.error(
                f.values["device"],
                "'\(f.child("device"))' must be an interface name (1 to 15 letters, digits, '-', '_', '.'), got \(shown: d)")
        }
        let filter = PacketFilter.read(f, reader: r)
        let shaping = Shaping.read(f, reader: r)
        var engine = Engine.auto
        if let e = r.string(f, "engine") {
            if let v = Engine(rawValue: e) {
                engine = v
            } else {
                r.error(f.values["engine"], "'\(f.child("engine"))' must be one of auto, netem, queue, got \(shown: e)")
            }
        }
        if let s = shaping, engine == .queue, let why = s.unsupportedByQueue {
            r.error(
                f.values["engine"],
                "'\(f.child("engine"))' is queue, which \(why); use engine netem (or auto, where the host has sch_netem)")
        }
        guard let host, let filter, let shaping else { return nil }
        // An effect misspelt or out of range was said already; "needs an effect" would mislead.
        if shaping.isEmpty, r.diagnostics.count == errorsBefore {
            r.error(node, "'\(path)' needs an effect: delay, loss, duplicate, corrupt, reorder or rate")
            return nil
        }
        if shaping.isEmpty { return nil }
        return NetworkFault(host: host, device: device, filter: filter, shaping: shaping, engine: engine)
    }
}
