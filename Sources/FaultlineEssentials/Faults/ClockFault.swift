/// `clock`: a lab host's wall clock, as its services under libfaketime see it, stepped by
/// `offset` for the fault's window; stepped back on revert.
public struct ClockFault: Codable, Equatable, Sendable {
    public static let key = "clock"

    public var host: String
    /// Signed nanoseconds added to the wall clock.
    public var offset: Nanos
    /// The host's control file; set when the runner expands it.
    public var file: String

    public init(host: String, offset: Nanos = 0, file: String = "") {
        self.host = host
        self.offset = offset
        self.file = file
    }

    /// libfaketime's words for it: `+30.000000000s`, `-2.500000000s`.
    public var faketime: String {
        let sign = offset < 0 ? "-" : "+"
        let a = offset.magnitude
        var frac = String(a % 1_000_000_000)
        while frac.count < 9 { frac = "0" + frac }
        return "\(sign)\(a / 1_000_000_000).\(frac)s"
    }
}
