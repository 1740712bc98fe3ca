/// The outcome of a run. Each has its own exit code.
public enum Verdict: String, Codable, Sendable {
    /// Every expectation held.
    case passed
    /// A guarantee broke: an expectation or the steady state after the faults did not hold.
    case failed
    /// The run cannot say: the steady state did not hold before, or a fault did not take.
    case invalid
    /// Stopped by SIGINT or SIGTERM; everything was reverted.
    case aborted
    /// faultline itself failed.
    case error
}

/// Process exit codes, documented in `--help` and the README.
public enum ExitCode {
    public static let passed: Int32 = 0
    public static let failed: Int32 = 1
    public static let invalid: Int32 = 2
    public static let aborted: Int32 = 3
    public static let residue: Int32 = 4
    public static let badInput: Int32 = 64
    public static let internalError: Int32 = 70

    /// The exit code for a verdict; residue left on a host outranks every verdict but `error`.
    public static func of(_ verdict: Verdict, residue: Bool) -> Int32 {
        if verdict == .error { return internalError }
        if residue { return self.residue }
        switch verdict {
        case .passed: return passed
        case .failed: return failed
        case .invalid: return invalid
        case .aborted: return aborted
        case .error: return internalError
        }
    }

    /// The table shown in `--help` and the README.
    public static let help = """
        0 passed · 1 failed (a guarantee broke) · 2 invalid run (steady state did not hold before, \
        or a fault did not take) · 3 aborted (SIGINT/SIGTERM; everything reverted) · 4 residue left \
        on a host · 64 bad input · 70 internal error
        """
}
