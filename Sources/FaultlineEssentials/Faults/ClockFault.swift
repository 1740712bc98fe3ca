/// `clock`: a lab host's wall clock, as its services under libfaketime see it, stepped by
/// `offset` for the fault's window and, with `rate`, running fast from then on; stepped back on
/// revert. With `system`, the system clock (CLOCK_REALTIME) of an ssh host with its own kernel,
/// its time synchronisation paused meanwhile.
public struct ClockFault: Codable, Equatable, Sendable {
    public static let key = "clock"

    public var host: String
    /// Signed nanoseconds added to the wall clock.
    public var offset: Nanos
    /// How fast the clock runs from the fault's start, above 1 (1.001: a millisecond per second
    /// fast); the agent moves the offset on every 10 ms.
    public var rate: Double?
    /// The host's control file; set when the runner expands it (empty with `system`).
    public var file: String
    /// Steps the host's own system clock: every process of the host sees it.
    public var system: Bool?

    public init(host: String, offset: Nanos = 0, rate: Double? = nil, file: String = "") {
        self.host = host
        self.offset = offset
        self.rate = rate
        self.file = file
    }

    /// The offset `elapsed` after the fault's start.
    public func offset(after elapsed: Nanos) -> Nanos {
        guard let r = rate else { return offset }
        return offset + Nanos((Double(elapsed) * (r - 1)).rounded())
    }

    /// libfaketime's words for the starting offset: `+30.000000000s`, `-2.500000000s`.
    public var faketime: String { Self.faketime(offset) }

    /// libfaketime's words for `offset`.
    public static func faketime(_ offset: Nanos) -> String {
        let sign = offset < 0 ? "-" : "+"
        let a = offset.magnitude
        var frac = String(a % 1_000_000_000)
        while frac.count < 9 { frac = "0" + frac }
        return "\(sign)\(a / 1_000_000_000).\(frac)s"
    }
}
