import FaultlineEssentials
import Glibc

/// One host's part of a fault, as its agent receives it: for a kill, the kill itself with its
/// host bound; for a partition, the one host's nft table.
public protocol FaultWork: Codable, Sendable, Equatable {
    /// The name the wire carries, unique among works.
    static var key: String { get }
    /// The host whose agent performs it.
    var host: String { get }
}

/// What an agent does with one kind's work on its host: `prepare` (no side effects) → record
/// → `apply` → `confirm`, with the undo as data in the ``Injection``; `measure` just before the
/// revert. The runner's side of the same kind (expanding a fault into work, preflight, checks
/// after the revert) is its ``FaultDriver`` conformance, in FaultlineLinux.
///
/// ``FaultEffects`` lists the effects; nothing else switches over kinds.
public protocol FaultEffect: Sendable {
    associatedtype Work: FaultWork

    /// Finds the targets and checks the safety rules; changes nothing.
    func prepare(_ work: Work) throws(FaultError) -> Injection
    func apply(_ work: Work, _ injection: Injection) throws(FaultError)
    /// Polls until the effect shows or `deadline` (monotonic ns) passes.
    func confirm(_ work: Work, _ injection: Injection, deadline: Int64) -> Confirmation
    /// Just before the revert: what the fault did, measured (requested vs measured).
    func measure(_ work: Work, _ injection: Injection) -> String?
    /// Every 10 ms while the fault holds, on the agent's watchdog (a clock that drifts moves on).
    func tick(_ work: Work, _ injection: Injection)
}

extension FaultEffect {
    public func measure(_ work: Work, _ injection: Injection) -> String? { nil }
    public func tick(_ work: Work, _ injection: Injection) {}
}

/// A prepared injection: what will be done, to what, and how to undo it — as data, recorded in
/// the ledger before anything is done and replayable by `faultline recover` after a crash.
public struct Injection: Codable, Equatable, Sendable {
    public var targets: [ProcessRef]
    public var undo: [UndoStep]
    public var summary: String
    /// What a driver measured while preparing (a baseline) for its own confirm.
    public var baseline: [String: Double] = [:]
    /// What `apply` writes, for kinds whose injection is a set of file writes (a cgroup limit),
    /// in the shapes the undo uses: the ledger then holds both the new and the old values.
    public var writes: [UndoStep]?

    public init(targets: [ProcessRef] = [], undo: [UndoStep], summary: String) {
        self.targets = targets
        self.undo = undo
        self.summary = summary
    }
}

/// The result of checking that a fault took effect (or that its revert did).
public struct Confirmation: Equatable, Sendable {
    public var ok: Bool
    public var detail: String
    /// When the effect was first seen, on the monotonic clock.
    public var at: Int64?
}

/// Any kind's work, on the wire: `{"kind": KEY, "spec": {...}}`, decoded through the registry.
public struct AnyFaultWork: Codable, Equatable, Sendable {
    public let work: any FaultWork

    public init(_ work: any FaultWork) { self.work = work }

    public var key: String { type(of: work).key }
    public var host: String { work.host }

    enum CodingKeys: String, CodingKey { case kind, spec }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(key, forKey: .kind)
        try work.encode(to: c.superEncoder(forKey: .spec))
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let key = try c.decode(String.self, forKey: .kind)
        guard let type = FaultEffects.workType(for: key) else {
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown fault work '\(key)'")
        }
        work = try type.init(from: c.superDecoder(forKey: .spec))
    }

    public static func == (a: AnyFaultWork, b: AnyFaultWork) -> Bool { a.work.isEqual(b.work) }
}

extension FaultWork {
    func isEqual(_ other: any FaultWork) -> Bool { (other as? Self) == self }
}
