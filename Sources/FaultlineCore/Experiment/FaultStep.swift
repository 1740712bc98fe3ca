/// One fault on the experiment's timeline: when, for how long, and what (one kind).
public struct FaultStep: Equatable, Sendable {
    public var name: String
    /// Offset from the start of the fault phase.
    public var at: Nanos
    /// How long the fault holds; `nil` for instants (then the window runs to the end).
    public var duration: Nanos?
    public var spec: any FaultKind
    /// Where the file wrote it (`faults[3]`), for messages; empty when not read from a file.
    public var path: String

    public init(name: String, at: Nanos, duration: Nanos? = nil, spec: any FaultKind, path: String = "") {
        self.name = name
        self.at = at
        self.duration = duration
        self.spec = spec
        self.path = path
    }

    /// The kind's key, as experiment files name it.
    public var kind: String { type(of: spec).key }

    public var holding: FaultHolding { type(of: spec).holding }

    /// When a held fault is reverted: after `duration`, or at the end of the fault phase.
    public func revertsAt(experimentDuration: Nanos) -> Nanos? {
        guard case .held = holding else { return nil }
        return duration.map { at + $0 } ?? experimentDuration
    }

    /// The window the fault is attributed to, clamped to the experiment's duration.
    public func window(experimentDuration: Nanos) -> Range<Nanos> {
        let end = duration.map { at + $0 } ?? experimentDuration
        return at..<max(at, min(end, experimentDuration))
    }

    public static func == (a: FaultStep, b: FaultStep) -> Bool {
        a.name == b.name && a.at == b.at && a.duration == b.duration && a.spec.isEqual(b.spec)
    }
}
