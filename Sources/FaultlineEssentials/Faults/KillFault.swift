/// `kill`: send a signal (default TERM) to processes; confirmed when every target is gone.
public struct KillFault: Codable, Equatable, Sendable {
    public static let key = "kill"

    public var process: ProcessTarget
    /// Signal number (Linux numbering) and its name without `SIG`.
    public var signal: Int32
    public var signalName: String

    public init(_ process: ProcessTarget, signal: Int32 = 15, signalName: String = "TERM") {
        self.process = process
        self.signal = signal
        self.signalName = signalName
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

}
