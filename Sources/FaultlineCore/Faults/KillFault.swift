import Yams

/// `kill`: send a signal (default TERM) to processes; confirmed when every target is gone.
public struct KillFault: FaultKindReader, Equatable {
    public static let key = "kill"
    public static let summary = "send a signal (default TERM) to processes; confirmed when they are gone"
    public static let fields = ProcessTarget.keys + ["signal"]
    public static let holding = FaultHolding.instant
    public static let replacesProcesses = true

    public var process: ProcessTarget
    /// Signal number (Linux numbering) and its name without `SIG`.
    public var signal: Int32
    public var signalName: String

    public init(_ process: ProcessTarget, signal: Int32 = 15, signalName: String = "TERM") {
        self.process = process
        self.signal = signal
        self.signalName = signalName
    }

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
        return k
    }

    public func validate(_ step: FaultStep, _ v: FaultValidation) { process.validate(v, key: Self.key) }

    public func describe(_ step: FaultStep, _ hosts: HostSet) -> String {
        "kill \(process.selector) on \(process.whereText) with SIG\(signalName) [\(step.name)]"
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

    /// Signals that stop or continue a process rather than end it: a kill with one would leave
    /// its target stopped after the run with nothing recorded to undo (the `pause` fault stops
    /// and continues under the ledger).
    public static let stopping: [Int32: String] = [18: "CONT", 19: "STOP", 20: "TSTP", 21: "TTIN", 22: "TTOU"]

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
