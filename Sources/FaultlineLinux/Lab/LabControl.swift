import FaultlineCore

/// Brings an experiment's lab up around a run, or uses it as it is when it is up already.
public protocol LabControl: Sendable {
    /// The lab's state once it is up; `owned` when this call brought it up.
    func acquire(_ lab: LabSpec, log: @escaping (String) -> Void) throws(LabError) -> (state: LabState, owned: Bool)
    /// Takes down a lab `acquire` brought up; what could not be removed.
    func release(_ lab: String, log: @escaping (String) -> Void) -> [String]
    /// How to reach a host of the lab now: inside its namespaces, through its init; nil when
    /// the host is not running.
    func entry(_ state: LabState, host: String) -> HostEntry?
}

extension LabControl {
    public func entry(_ state: LabState, host: String) -> HostEntry? {
        // The init's pid comes from a file: entered only if it still is this lab's init.
        guard let h = state.hosts.first(where: { $0.name == host }), let p = h.initProcess, LabState.isLabInit(p, of: h) else { return nil }
        return .namespaces(initPid: p.pid)
    }
}

/// Labs of this machine's namespace hosts, through ``LabManager``.
public struct LabManagerControl: LabControl {
    public var dataRoot: String
    public var executable: String

    public init(dataRoot: String, executable: String) {
        self.dataRoot = dataRoot
        self.executable = executable
    }

    public func acquire(_ lab: LabSpec, log: @escaping (String) -> Void) throws(LabError) -> (state: LabState, owned: Bool) {
        let existing: LabState?
        switch LabState.load(dataRoot: dataRoot, lab: lab.name) {
        case .failure(let e): throw e
        case .success(let s): existing = s
        }
        if let state = existing {
            let dead = state.hosts.filter { h in !(h.initProcess.map { LabState.isLabInit($0, of: h) } ?? false) }.map(\.name)
            guard dead.isEmpty else {
                throw LabError.refused(
                    "lab '\(lab.name)' is up but hosts \(dead.joined(separator: ", ")) are not running; 'faultline lab down \(lab.name)' first"
                )
            }
            return (state, false)
        }
        try LabManager(dataRoot: dataRoot, executable: executable, log: log).up(lab)
        guard let state = LabState.read(dataRoot: dataRoot, lab: lab.name) else {
            throw LabError.system("lab '\(lab.name)' is up but its state file cannot be read")
        }
        return (state, true)
    }

    public func release(_ lab: String, log: @escaping (String) -> Void) -> [String] {
        LabManager(dataRoot: dataRoot, executable: executable, log: log).down(lab)
    }
}
