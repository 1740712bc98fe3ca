import Yams

extension ClockFault: FaultKindReader {
    public static let summary =
        "step a lab host's wall clock by 'offset' (±, like -30s) and/or make it run fast ('rate' above 1, up to 2), as its services under 'clock: faketime' (libfaketime) see it, confirmed by reading the clock through libfaketime; or with 'system: true', step an ssh host's own system clock (time synchronisation daemons paused meanwhile), confirmed by reading it"
    public static let fields = ["host", "offset", "rate", "system"]
    public static let holding = FaultHolding.held(durationRequired: false)

    static func read(_ node: Node, path: String, reader r: NodeReader) -> ClockFault? {
        guard let f = r.fields(node, path: path, allowed: fields) else { return nil }
        guard let host = r.string(f, "host", required: true) else { return nil }
        var c = ClockFault(host: host)
        if let text = r.string(f, "offset") {
            let negative = text.hasPrefix("-")
            let body = text.hasPrefix("-") || text.hasPrefix("+") ? String(text.dropFirst()) : text
            switch DurationText.read(body, max: 365 * 86_400 * 1_000_000_000) {
            case .success(let v): c.offset = negative ? -v : v
            case .failure:
                r.error(
                    f.values["offset"],
                    "'\(f.child("offset"))' must be a duration with an optional sign, like '30s', '-2m' or '+500ms', got \(shown: text)")
            }
        }
        if f.has("rate") {
            if case .scalar(let v)? = f.values["rate"], let rate = Double(v.string), rate > 1, rate <= 2 {
                c.rate = rate
            } else {
                // A slow clock would move back in small steps as the offset is rewritten: not a
                // clock that runs slow, which never goes back.
                r.error(
                    f.values["rate"],
                    "'\(f.child("rate"))' must be a number above 1 and at most 2 (1.001: a millisecond per second fast); a slow clock is not built"
                )
            }
        }
        if c.offset == 0, c.rate == nil, !f.has("rate") { r.error(f.node, "'\(path)' needs a non-zero 'offset' or a 'rate'") }
        if r.bool(f, "system") == true {
            c.system = true
            if f.has("rate") {
                r.error(f.keys["rate"], "'\(f.child("rate"))' with 'system': a drifting system clock is not built; step it with 'offset'")
            }
        }
        return c
    }

    public var target: String {
        let step = offset == 0 ? nil : "\(offset < 0 ? "-" : "+")\(DurationText.format(Nanos(offset.magnitude)))"
        return [step, rate.map { "running at ×\($0)" }].compactMap { $0 }.joined(separator: ", ")
    }
    public var exclusion: FaultExclusion? { FaultExclusion(key: "clock \(host)", what: "another clock fault on host '\(host)'") }
    public func hosts(in hosts: HostSet) -> [String] { [host] }
    /// A host whose clock is off still runs: degraded, not taken.
    public func impact(in hosts: HostSet) -> FaultImpact { .degraded([host]) }

    public func validate(_ step: FaultStep, _ v: FaultValidation) {
        let path = "\(v.path).\(Self.key).host"
        v.knownHost(host, at: path)
        if system == true {
            if let h = v.hosts.all.first(where: { $0.name == host }), h.transport != .ssh {
                v.error(
                    at: "\(v.path).\(Self.key).system",
                    "'\(v.path).\(Self.key).system' steps the system clock of host \(shown: host), which shares this machine's kernel (a lab or the local host): the runner's own clock would move; only ssh hosts, with kernels of their own"
                )
            }
        } else if v.hosts.names.contains(host), v.hosts.clockFiles[host] == nil {
            v.error(
                at: path,
                "host \(shown: host) runs no service under libfaketime: give one 'clock: faketime' in the lab file, or step an ssh host's own clock with 'system: true'"
            )
        }
    }

    public func describe(_ step: FaultStep, _ hosts: HostSet) -> String {
        "clock on \(host): \(system == true ? "system clock (CLOCK_REALTIME)" : "wall clock") \(target) [\(step.name)]"
    }
    public func describeRevert(_ step: FaultStep) -> String { "put the clock of '\(step.name)' back" }
}
