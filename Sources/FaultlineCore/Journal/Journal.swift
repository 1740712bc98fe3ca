import Foundation

/// The record of one run: the one source of truth every report is rendered from.
///
/// Instants named `*_at` inside a run are nanoseconds since the run's monotonic origin, which
/// is the wall-clock instant `started_at`.
public struct Journal: Codable, Equatable, Sendable {
    /// The largest journal `faultline report` reads: a run's samples and operations are
    /// bounded (5 million and 10 million), and so is what describes them.
    public static let maxBytes = 4 << 30

    public var schema = "faultline.journal/1"
    public var runId: String
    public var verdict: Verdict
    public var exitCode: Int32
    /// Why the verdict is not `passed` or `failed`, in plain words.
    public var reasons: [String] = []
    public var experiment: ExperimentSummary
    public var startedAt: String
    public var finishedAt: String?
    public var durationNs: Nanos = 0
    public var events: [TimelineEvent] = []
    public var steadyState = SteadyStateRecord()
    public var faults: [FaultRecord] = []
    public var actions: [ActionRecord] = []
    public var checks: [CheckResult] = []
    public var probes: [ProbeSeries] = []
    public var workload: WorkloadRecord?
    public var residue: [String] = []
    /// Stretches of the fault phase when the runner itself was not running (its watch thread
    /// woke late by more than `RunnerStall.threshold`): a machine that stops its measurer. Nil
    /// when there were none (and in journals from before the watch).
    public var stalls: [RunnerStall]?
    /// What stopped the run early (a stop condition or a halt), and how fast every fault was
    /// reverted after; nil when nothing did.
    public var stop: StopRecord?
    /// The run's parts on its clock (steady state, the fault phase, the workload, each probe),
    /// for the timeline; nil in journals from before they were recorded.
    public var phases: [PhaseSpan]?
    /// Lines of the system's own account (a log, a command's output) that matched a marker,
    /// oldest first; nil when the experiment declares no markers.
    public var markers: [MarkerRecord]?

    public init(runId: String, experiment: ExperimentSummary, startedAt: String) {
        self.runId = runId
        self.experiment = experiment
        self.startedAt = startedAt
        self.verdict = .error
        self.exitCode = ExitCode.internalError
    }

    /// snake_case keys, sorted, pretty printed: see `JSONText`.
    public static func encoder() -> JSONText { FaultlineJSON.encoder() }

    public static func decoder() -> JSONDecoder { FaultlineJSON.decoder() }

    public func encoded() throws -> Data { try Self.encoder().encode(self) }

    public static func decode(_ data: Data) throws -> Journal { try decoder().decode(Journal.self, from: data) }
}

/// A part of a run, from `startAt` to `endAt` on the run's clock.
public struct PhaseSpan: Codable, Equatable, Sendable {
    public var name: String
    public var startAt: Nanos
    public var endAt: Nanos

    public init(name: String, startAt: Nanos, endAt: Nanos) {
        self.name = name
        self.startAt = startAt
        self.endAt = max(startAt, endAt)
    }
}

/// One line of the system's own account that matched a marker: when it was written, on the
/// run's clock, by the line's own timestamp where it has one.
public struct MarkerRecord: Codable, Equatable, Sendable {
    /// The marker's name (`odown`, `switch-master`).
    public var name: String
    public var at: Nanos
    /// Where the line came from (`n1:sentinel.log`, a command).
    public var source: String
    /// The line itself, as read.
    public var line: String
    /// How far off `at` may be: the line's timestamp's resolution, or (when it carries none)
    /// the span in which faultline read it.
    public var uncertaintyNs: Nanos?

    public init(name: String, at: Nanos, source: String, line: String, uncertaintyNs: Nanos? = nil) {
        self.name = name
        self.at = at
        self.source = source
        self.line = line
        self.uncertaintyNs = uncertaintyNs
    }
}

/// One stretch when the runner did not run: from `at` for `durationNs`.
public struct RunnerStall: Codable, Equatable, Sendable {
    /// A wake later than this is a stall; a busy machine's scheduler is late by less.
    public static let threshold: Nanos = 20_000_000
    /// At most this many are kept, the longest first when there are more.
    public static let limit = 1_000

    public var at: Nanos
    public var durationNs: Nanos

    public init(at: Nanos, durationNs: Nanos) {
        self.at = at
        self.durationNs = durationNs
    }

    public var range: Range<Nanos> { at..<(at + max(0, durationNs)) }
}

public struct ExperimentSummary: Codable, Equatable, Sendable {
    public var title: String
    public var description: String?
    public var tags: [String]
    public var file: String
    public var durationNs: Nanos

    public init(_ e: Experiment) {
        title = e.title
        description = e.description
        tags = e.tags
        file = e.source
        durationNs = e.duration
    }
}

/// One probe's result in a steady-state check.
public struct ProbeOutcome: Codable, Equatable, Sendable {
    public var probe: String
    public var ok: Bool
    public var latencyNs: Nanos
    public var detail: String

    public init(probe: String, ok: Bool, latencyNs: Nanos, detail: String) {
        self.probe = probe
        self.ok = ok
        self.latencyNs = latencyNs
        self.detail = detail
    }
}

public struct SteadyStateRecord: Codable, Equatable, Sendable {
    public var before: [ProbeOutcome] = []
    public var after: [ProbeOutcome] = []
    public init() {}
}

/// What happened to one fault.
public struct FaultRecord: Codable, Equatable, Sendable {
    public var name: String
    public var kind: String
    public var host: String
    public var target: String
    public var scheduledAt: Nanos
    public var injectedAt: Nanos?
    public var confirmed = false
    public var confirmedAt: Nanos?
    public var revertedAt: Nanos?
    /// Processes acted on, and other facts of the injection.
    public var detail: String?
    public var error: String?
    /// When a new process matching the fault's selector was first seen (`healed` expectations).
    public var healedAt: Nanos?
    /// That process (`pid@starttime`, in the host's PID namespace).
    public var healedBy: String?
    /// For a fault that holds (a limit), whose processes end later: the heal watch's last poll
    /// that saw all of them, and the first that missed one — the end lies between.
    public var goneAfter: Nanos?
    public var goneAt: Nanos?
    /// The heal watch's last poll before the one that saw the replacement (with `goneAt`).
    public var healedAfter: Nanos?
    /// What was chosen for the fault's hosts before anything was injected (its engine).
    public var preflight: String?
    /// How its effect was confirmed: what was measured (the delay added toward a peer).
    public var confirmation: String?
    /// What the fault did, measured on its hosts when it was reverted: requested against measured.
    public var measured: String?
    /// How far off `injectedAt`, `confirmedAt` and `revertedAt` may be, at most, when a host's
    /// agent runs on another machine: its clock is mapped onto the runner's from the readings
    /// with the shortest round trip (half of it). Absent when every host shares the runner's clock.
    public var clockUncertainty: Nanos?

    public init(name: String, kind: String, host: String, target: String, scheduledAt: Nanos) {
        self.name = name
        self.kind = kind
        self.host = host
        self.target = target
        self.scheduledAt = scheduledAt
    }
}

/// What happened to one action or rollback command.
public struct ActionRecord: Codable, Equatable, Sendable {
    public var name: String
    public var command: String
    public var scheduledAt: Nanos
    public var startedAt: Nanos?
    public var exitStatus: Int32?
    public var ok = false
    public var output: String?

    public init(name: String, command: String, scheduledAt: Nanos) {
        self.name = name
        self.command = command
        self.scheduledAt = scheduledAt
    }
}

/// What the workload did and what survived, with the evidence for the write checks.
public struct WorkloadRecord: Codable, Equatable, Sendable {
    public struct LostWrite: Codable, Equatable, Sendable {
        public var value: String
        public var endpoint: String
        /// When its acknowledgement arrived, from the run's start like every `*_at`.
        public var ackedAt: Nanos
    }
    public var acknowledged: Int
    public var unknown: Int
    public var failed: Int
    public var lostCount: Int
    /// The first lost writes, oldest first (at most 50).
    public var lost: [LostWrite]
    public var rpoNs: Nanos
    public var finalPrimary: String?
    /// Endpoint → how many values it held at the final read.
    public var finalCounts: [String: Int]
    /// Every operation, reads included (optional: journals before reads were recorded lack it).
    public var operations: Int?
    /// Endpoint (or backend) → operations it acknowledged.
    public var acknowledgedBy: [String: Int]?
    /// Replicas that could not be read at the end.
    public var unreadReplicas: [String]?
    /// Each endpoint's operations as samples (invoked, took, acknowledged or not), for the
    /// timeline's outcomes per endpoint; nil in journals from before they were recorded.
    public var endpoints: [ProbeSeries]?

    /// The history's instants are already on the run's clock (the workload's origin is the
    /// run's start), and so are the records': nothing is subtracted.
    public init(_ h: History) {
        let r = WriteChecker.check(h)
        acknowledged = r.acknowledged
        unknown = r.unknown
        failed = r.failed
        lostCount = r.lost.count
        lost = r.lost.prefix(50).map { LostWrite(value: $0.value, endpoint: $0.endpoint, ackedAt: $0.completedAt) }
        rpoNs = r.rpo
        finalPrimary = h.finalPrimary
        finalCounts = h.finalReads.mapValues(\.count)
        operations = h.ops.count
        var by: [String: Int] = [:]
        for op in h.ops where op.outcome == .ok { by[op.endpoint, default: 0] += 1 }
        acknowledgedBy = by
        unreadReplicas = h.unreadReplicas.isEmpty ? nil : h.unreadReplicas
        endpoints = ProbeSeries.byEndpoint(h)
    }
}
