import Yams

extension KillFault: FaultKindReader {
    public static let summary = "send a signal (default TERM) to processes; confirmed when they are gone"

    public static let fields = ProcessTarget.keys + ["signal"]

    public static let holding = FaultHolding.instant

    public static let replacesProcesses = true

    static func read(_ node: Node, path: String, reader r: NodeReader) -> KillFault? {
        guard let f = r.fields(node, path: path, allowed: fields) else { return nil }
        let target = ProcessTarget.read(f, reader: r)
        let sig = Signals.read(f, reader: r)
        guard let target else { return nil }
        var k = KillFault(target)
        if let sig { (k.signal, k.signalName) = sig }
        return k
    }

    public var target: String { process.selector.description }

    public var role: RoleTarget? { process.role }

    public var processes: ProcessTarget? { process }

    public var replaceable: ProcessSelector? { process.selector }

    public var exclusion: FaultExclusion? { process.exclusion }

    public func hosts(in hosts: HostSet) -> [String] { process.hosts(in: hosts) }

    public func onHost(_ host: String) -> KillFault {
        var k = self
        k.process.host = host
        // Bound: a fault on that host, as if written so (the guard and the plan read it so).
        k.process.role = nil
        return k
    }

    public func validate(_ step: FaultStep, _ v: FaultValidation) { process.validate(v, key: Self.key) }

    public func describe(_ step: FaultStep, _ hosts: HostSet) -> String {
        "kill \(process.selector) on \(process.whereText) with SIG\(signalName) [\(step.name)]"
    }
}

extension Signals {
    /// `signal:` as `KILL`, `SIGKILL`, `kill` or a number; the stopping signals are refused.
    static func read(_ f: Fields, reader: NodeReader) -> (Int32, String)? {
        guard let node = f.values["signal"], let text = node.string else { return nil }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        let found: (Int32, String)?
        if let n = Int32(text) {
            found = byName.first { $0.value == n }.map { (n, $0.key) }
        } else {
            found = byName[name].map { ($0, name) }
        }
        guard let (n, canonical) = found else {
            let known =
                Int32(text) != nil ? "(valid numbers: 1-15, 17, 24-31; Linux numbering)" : Suggest.hint(for: name, in: byName.keys.sorted())
            reader.error(node, "'\(f.child("signal"))' must be a signal name or number, got \(shown: text) \(known)")
            return nil
        }
        if stopping[n] != nil {
            let which = name == canonical ? "" : " is SIG\(canonical), which"
            reader.error(
                node,
                "'\(f.child("signal"))' \(shown: text)\(which) stops or continues a process instead of ending it; use the 'pause' fault to stop and continue a process"
            )
            return nil
        }
        return (n, canonical)
    }
}
