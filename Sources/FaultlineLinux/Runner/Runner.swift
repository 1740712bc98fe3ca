import FaultlineCore
import Foundation
import Glibc

/// Runs one experiment through its whole lifecycle and produces its journal.
///
/// steady state before → continuous probes → faults and actions at their offsets (each fault
/// recorded, injected, confirmed) → hold → revert in reverse order → steady state after →
/// rollbacks → residue check → checkers → journal. An interrupt, or an agent lost, at any point
/// jumps to revert. What the runner does is reported as ``RunEvent``s to its observer.
public final class Runner {
    public struct Options: Sendable {
        public var stateDirectory = "/run/faultline"
        public var runId: String = Runner.newRunId()
        /// The faultline executable agents are started from.
        public var executable = Runner.selfPath
        /// Where labs keep their state (`faultline --lab-dir`).
        public var labDataRoot = ExperimentLoader.defaultLabDataRoot
        /// Leave a lab this run brought up running afterwards.
        public var keepLab = false
        /// More halt files than the state directory's own (`--halt-file`, `FAULTLINE_HALT_FILE`).
        public var haltFiles: [String] = []
        /// Where the lab services' logs are copied (`HOST/SERVICE.log`) before the lab goes
        /// down; nil keeps none (the markers are read either way).
        public var logsDirectory: String?
        public init() {}
    }

    /// What the runner acts through: replaced in tests by an in-memory transport and fakes.
    public struct Environment: Sendable {
        public var transport: any AgentTransport
        public var labs: any LabControl
        /// Reads this machine's network and stopped processes for the residue check when no agent
        /// runs here; nil for none.
        public var snapshot: (@Sendable () -> (HostSnapshot, problems: [String]))?

        public init(
            transport: any AgentTransport, labs: any LabControl, snapshot: (@Sendable () -> (HostSnapshot, problems: [String]))?
        ) {
            self.transport = transport
            self.labs = labs
            self.snapshot = snapshot
        }

        /// Agents as child processes, labs of namespace hosts, this machine's state.
        public static func host(_ o: Options) -> Environment {
            Environment(
                transport: SpawnedAgentTransport(binary: SelfCommand(executable: o.executable), stateDirectory: o.stateDirectory),
                labs: LabManagerControl(dataRoot: o.labDataRoot, executable: o.executable), snapshot: { HostSnapshot.take() })
        }
    }

    let experiment: Experiment
    let plan: Plan
    let options: Options
    let environment: Environment
    let observer: any RunObserver
    let interrupts: Interrupts
    var journal: Journal
    let origin = MonotonicInstant.now
    /// One agent per host that has faults; each keeps its host's ledger under a lease.
    var agents: [String: AgentClient] = [:]
    /// Agents lost during the run (host → why), filled from the clients' threads.
    let lost = Locked([String: String]())
    var notedLost: Set<String> = []
    /// Hosts whose ledgers were replayed after their agent was lost.
    var recovered: Set<String> = []
    /// Each fault as its hosts will take it, after preflight (its engine chosen), and the note.
    var prepared: [String: (spec: any FaultKind, note: String?)] = [:]
    /// Faults currently in effect, in injection order.
    var held: [Held] = []
    var phaseStart: MonotonicInstant?
    var phaseEnd: MonotonicInstant?
    var invalidReasons: [String] = []
    /// The host as it was before the first injection.
    var before: HostSnapshot?
    /// The lab's state while the run uses it; `ownsLab` when this run brought it up.
    var labState: LabState?
    /// SSH master connections by host, and the private directory of their sockets.
    let sshLinks = Locked([String: SSHLink]())
    /// Why an ssh host could not be connected to.
    let sshFailures = Locked([String: String]())
    var sshDirectory: String?
    var ownsLab = false
    /// The lab's logs were read (markers) and saved: once per run, before the lab goes down.
    var labLogsRead = false
    /// The workload's operations and final reads.
    var history: History?
    let heal = HealWatch()
    var haltWatch: HaltWatch?
    /// Role faults as their roles bound them, for the guard's look at later instants.
    var boundRoles: [String: any FaultKind] = [:]
    /// The brake: stop conditions judged on every sample, and halts; it wakes the schedule.
    lazy var brake = StopMonitor(experiment.stopConditions) { [interrupts] _ in interrupts.wake() }

    /// A fault in effect: its step, the spec as injected (its role bound), and its parts.
    struct Held {
        var step: FaultStep
        var driver: any FaultDriver
        var works: [AnyFaultWork]
        /// Index into `journal.faults`.
        var record: Int
        var hosts: [String] { works.map(\.host) }
    }

    public init(
        _ experiment: Experiment, options: Options, observer: any RunObserver, interrupts: Interrupts = .shared,
        environment: Environment? = nil
    ) {
        self.experiment = experiment
        self.plan = Plan(experiment)
        self.options = options
        self.environment = environment ?? .host(options)
        self.observer = observer
        self.interrupts = interrupts
        journal = Journal(runId: options.runId, experiment: ExperimentSummary(experiment), startedAt: MonotonicClock.wallISO8601())
    }

    /// This executable, from `/proc/self/exe`.
    public static var selfPath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// A new run id: UTC time and four random hex digits, `20261127-082650-97d0`.
    public static func newRunId() -> String {
        "\(MonotonicClock.wallCompact())-\(String(UInt16.random(in: 0...UInt16.max), radix: 16).leftPadded(4, with: "0"))"
    }

    /// Now, as an offset from the run's start.
    var now: Nanos { MonotonicInstant.now - origin }

    /// An instant of this machine's monotonic clock (the runner's or an agent's), as an offset.
    func offset(_ instant: MonotonicInstant) -> Nanos { instant - origin }
    func offset(agent ns: Int64?) -> Nanos? { ns.map { offset(MonotonicInstant(ns: $0)) } }

    func emit(_ kind: RunEvent.Kind) {
        let e = RunEvent(at: now, kind: kind)
        if let t = e.timeline { journal.events.append(t) }
        observer.observe(e)
    }

    var aborted: Bool { interrupts.signal != nil }

    /// Runs the experiment; never throws for the target's misbehaviour, only records it.
    public func run() -> Journal {
        interrupts.install()
        interrupts.onRepeat = { [observer, origin] _ in
            observer.observe(RunEvent(at: MonotonicInstant.now - origin, kind: .interruptedAgain))
        }
        emit(.started(runId: options.runId, title: experiment.title))
        guard startHaltWatch() else { return finish(verdict: .invalid, series: []) }
        do {
            try prepareLab()
            guard connectHosts() else {
                closeAgents()
                releaseLab()
                return finish(verdict: .invalid, series: [])
            }
            try startAgents()
        } catch {
            journal.reasons.append("\(error)")
            closeAgents()
            releaseLab()
            return finish(verdict: .error, series: [])
        }
        guard preflight(), startProxies(), steadyStateBefore() else {
            closeAgents()
            releaseLab()
            return finish(verdict: aborted ? .aborted : .invalid, series: [])
        }
        let probes = experiment.probes.map { ContinuousProbe($0, origin: origin.ns, brake: brake) }
        let workload = experiment.workload.map { WorkloadRunner($0, origin: origin.ns, brake: brake) }
        if let problem = workload?.prepare() {
            emit(.workloadNotReady(problem))
            invalidReasons.append(problem)
            closeAgents()
            releaseLab()
            return finish(verdict: .invalid, series: [])
        }
        takeSnapshots()
        let watch = StallWatch(origin: origin.ns)
        watch.start()
        let start = MonotonicInstant.now
        phaseStart = start
        brake.arm(at: offset(start))
        for p in probes { p.start(at: start.ns) }
        workload?.start(at: start.ns)
        emit(.phaseStarted(duration: experiment.duration, steps: plan.steps.count))
        runSchedule(probes)
        phaseEnd = .now
        addPhase("fault phase", offset(start))
        // SIGINT or SIGTERM is the operator's brake: the same sweep, measured from the signal.
        if let s = interrupts.signal, let t = interrupts.receivedAt {
            let name = s == SIGINT ? "SIGINT" : s == SIGTERM ? "SIGTERM" : "signal \(s)"
            brake.trip(StopRecord(condition: name, measured: "interrupted by \(name)", at: t - origin.ns))
        }
        if brake.record != nil { brakeNow() }
        let series = probes.map { $0.stop() }
        history = workload?.stop()
        if let h = history, let first = h.ops.map(\.invokedAt).min(), let last = h.ops.map(\.completedAt).max() {
            addPhase("workload", first, end: last)
        }
        for s in series {
            guard let first = s.started.first, let last = s.started.last else { continue }
            addPhase("probe \(s.probe)", first, end: last + (s.latency.last ?? 0))
        }
        let stalls = watch.stop()
        journal.stalls = stalls.isEmpty ? nil : stalls
        for s in stalls.sorted(by: { $0.durationNs > $1.durationNs }).prefix(3) { emit(.runnerStalled(s)) }
        recordReplacements()
        revertAll()
        if !aborted { steadyStateAfter() }
        if var h = history, let spec = experiment.workload, !spec.replicas.isEmpty {
            // After the heal: every replica's final state, once they agree or time is up.
            workload?.finalRead(into: &h)
            history = h
            let counts = h.finalReads.mapValues(\.count).sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
            emit(.workloadRead("\(h.ops.count) operations; \(counts.joined(separator: ", "))"))
        }
        runRollbacks()
        checkResidue()
        releaseLab()
        let verdict: Verdict = aborted || journal.stop != nil ? .aborted : invalidReasons.isEmpty ? .passed : .invalid
        return finish(verdict: verdict, series: series)
    }

    func finish(verdict: Verdict, series: [ProbeSeries]) -> Journal {
        stopHaltWatch()
        journal.probes = series
        if !series.isEmpty || verdict == .passed || verdict == .invalid {
            judge(series)
        }
        var v = verdict
        if v == .passed, journal.checks.contains(where: { !$0.passed }) { v = .failed }
        if aborted, let s = interrupts.signal {
            journal.reasons.append(
                "interrupted by \(s == SIGINT ? "SIGINT" : s == SIGTERM ? "SIGTERM" : "signal \(s)"); every fault was reverted")
        }
        if let stop = journal.stop, interrupts.signal == nil || !stop.measured.hasPrefix("interrupted by") {
            journal.reasons.append(
                "stopped: \(stop.condition): \(stop.measured); every fault was reverted \(stop.reactionNs.map(DurationText.format) ?? "-") after"
            )
        }
        journal.reasons += invalidReasons
        journal.verdict = v
        journal.exitCode = ExitCode.of(v, residue: !journal.residue.isEmpty)
        emit(.finished(v))
        // After the last event, so that every instant in the journal lies within the run.
        journal.durationNs = now
        journal.finishedAt = MonotonicClock.wallISO8601()
        return journal
    }

    /// The halt files this run obeys: the state directory's lever, the user's, its own.
    var haltFiles: (fleet: [String], own: String) {
        let d = options.stateDirectory
        return ([Halt.leverFile(stateDirectory: d)] + options.haltFiles, Halt.runFile(stateDirectory: d, runId: options.runId))
    }

    /// Refuses to start while a fleet halt file exists; else marks the run (for `faultline
    /// halt`) and watches every halt file until the run ends.
    func startHaltWatch() -> Bool {
        let files = haltFiles
        if let p = files.fleet.first(where: Halt.present) {
            invalidReasons.append(
                "halt file '\(ShownText.controlsEscaped(p))' exists: no run starts while it does (faultline halt --clear, or remove it); nothing was started"
            )
            return false
        }
        Halt.pruneMarkers(stateDirectory: options.stateDirectory)
        let marker = Halt.marker(stateDirectory: options.stateDirectory, runId: options.runId)
        try? Ledger.ensureDirectory(options.stateDirectory)
        try? FileManager.default.createDirectory(
            atPath: Halt.runsDirectory(stateDirectory: options.stateDirectory), withIntermediateDirectories: true)
        try? "\(getpid())\n".write(toFile: marker, atomically: true, encoding: .utf8)
        let watch = HaltWatch(paths: files.fleet + [files.own])
        haltWatch = watch
        let origin = self.origin
        watch.start { [brake] path in
            let own = path == files.own
            let seen = MonotonicClock.now()
            let written = Halt.writtenAt(path, now: seen)
            let lag = written.map { " (written \(DurationText.format(seen - $0)) before this run saw it)" } ?? ""
            brake.trip(
                StopRecord(
                    condition: own ? "halt of this run" : "halt",
                    measured: "halt file '\(ShownText.controlsEscaped(path))' appeared\(lag)", at: (written ?? seen) - origin.ns))
        }
        return true
    }

    func stopHaltWatch() {
        guard let watch = haltWatch else { return }
        haltWatch = nil
        watch.stop()
        unlink(Halt.marker(stateDirectory: options.stateDirectory, runId: options.runId))
        // The last run out removes the markers' folder (another run's marker keeps it).
        rmdir(Halt.runsDirectory(stateDirectory: options.stateDirectory))
        unlink(haltFiles.own)
    }

    /// Judges every expectation over what the run recorded.
    func judge(_ series: [ProbeSeries]) {
        guard let start = phaseStart else { return }
        let phase = offset(start)..<offset(max(phaseEnd ?? start, start))
        var windows: [Range<Nanos>] = []
        var starts: [String: Nanos] = [:]
        var ends: [String: Nanos] = [:]
        for f in journal.faults {
            guard let t = f.injectedAt, let step = experiment.faults.first(where: { $0.name == f.name }) else { continue }
            starts[f.name] = min(starts[f.name] ?? t, t)
            let end = f.revertedAt ?? step.duration.map { t + $0 } ?? phase.upperBound
            if step.duration != nil { ends[f.name] = max(ends[f.name] ?? end, end) }
            windows.append(t..<max(t, min(end, phase.upperBound)))
        }
        var actionStarts: [String: Nanos] = [:]
        for a in journal.actions { if let t = a.startedAt { actionStarts[a.name] = t } }
        var evidence = RunEvidence(
            phase: phase, series: series + (history.map { [ProbeSeries(workload: $0)] } ?? []), faults: journal.faults,
            faultWindows: windows, faultStarts: starts, faultEnds: ends, actionStarts: actionStarts, history: history,
            stalls: (journal.stalls ?? []).map(\.range), now: { MonotonicClock.now() })
        evidence.markers = journal.markers ?? []
        journal.checks += ExpectationChecker.check(experiment.expectations, evidence)
        if let h = history { journal.workload = WorkloadRecord(h) }
    }
}

extension String {
    func leftPadded(_ width: Int, with pad: Character = " ") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
