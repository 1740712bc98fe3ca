import FaultlineCore
import Foundation
import Glibc

/// Runs one experiment through its whole lifecycle and produces its journal.
///
/// steady state before → continuous probes → faults and actions at their offsets (each fault
/// recorded, injected, confirmed) → hold → revert in reverse order → steady state after →
/// rollbacks → residue check → checkers → journal. An interrupt at any point jumps to revert.
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
        public init() {}
    }

    let experiment: Experiment
    let plan: Plan
    let options: Options
    let console: Console
    let interrupts: Interrupts
    var journal: Journal
    let origin = MonotonicClock.now()
    /// One agent per host that has faults; each keeps its host's ledger under a lease.
    var agents: [String: AgentClient] = [:]
    /// Faults currently in effect, in injection order.
    var held: [Held] = []
    var phaseStart: Int64 = 0
    var phaseEnd: Int64 = 0
    var invalidReasons: [String] = []
    /// The host as it was before the first injection.
    var before: HostSnapshot?
    /// The lab's state while the run uses it; `ownsLab` when this run brought it up.
    var labState: LabState?
    var ownsLab = false
    /// The workload's operations and final reads.
    var history: History?
    let heal = HealWatch()

    struct Held {
        var step: FaultStep
        /// Index into `journal.faults`.
        var record: Int
        /// The hosts whose agents hold a part of it (one, or every host of a partition).
        var hosts: [String]
    }

    public init(_ experiment: Experiment, options: Options, console: Console, interrupts: Interrupts = .shared) {
        self.experiment = experiment
        self.plan = Plan(experiment)
        self.options = options
        self.console = console
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

    var now: Int64 { MonotonicClock.now() - origin }

    func event(_ what: String, _ detail: String? = nil) {
        let e = TimelineEvent(at: now, what: what, detail: detail)
        journal.events.append(e)
        console.line("+\(DurationText.format(e.at).leftPadded(7)) \(what)\(detail.map { ": \($0)" } ?? "")")
    }

    var aborted: Bool { interrupts.signal != nil }

    /// Runs the experiment; never throws for the target's misbehaviour, only records it.
    public func run() -> Journal {
        interrupts.install()
        interrupts.onRepeat = { [console] _ in console.error("faultline: interrupted again; still reverting, please wait") }
        event("run \(options.runId) started", experiment.title)
        do {
            try prepareLab()
            try startAgents()
        } catch {
            journal.reasons.append("\(error)")
            closeAgents()
            releaseLab()
            return finish(verdict: .error, series: [])
        }
        guard steadyStateBefore() else {
            closeAgents()
            releaseLab()
            return finish(verdict: aborted ? .aborted : .invalid, series: [])
        }
        let probes = experiment.probes.map { ContinuousProbe($0, origin: origin) }
        let workload = experiment.workload.map { WorkloadRunner($0, origin: origin) }
        if let problem = workload?.prepare() {
            event("WORKLOAD NOT READY", problem)
            invalidReasons.append(problem)
            closeAgents()
            releaseLab()
            return finish(verdict: .invalid, series: [])
        }
        takeSnapshots()
        phaseStart = MonotonicClock.now()
        for p in probes { p.start(at: phaseStart) }
        workload?.start(at: phaseStart)
        event("fault phase started", "\(DurationText.format(experiment.duration)), \(plan.steps.count) scheduled steps")
        runSchedule(probes)
        phaseEnd = MonotonicClock.now()
        let series = probes.map { $0.stop() }
        history = workload?.stop()
        for (name, seen) in heal.stop() {
            guard let i = journal.faults.firstIndex(where: { $0.name == name }) else { continue }
            journal.faults[i].healedAt = seen.at - origin
            journal.faults[i].healedBy = seen.by
            event("healed \(name)", "new process \(seen.by) seen at +\(DurationText.format(seen.at - origin))")
        }
        revertAll()
        if !aborted { steadyStateAfter() }
        if var h = history, let spec = experiment.workload, !spec.replicas.isEmpty {
            // After the heal: every replica's final state, once they agree or time is up.
            workload?.finalRead(into: &h)
            history = h
            event(
                "workload final read",
                "\(h.ops.count) operations; \(h.finalReads.mapValues(\.count).sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))"
            )
        }
        runRollbacks()
        checkResidue()
        releaseLab()
        let verdict: Verdict = aborted ? .aborted : invalidReasons.isEmpty ? .passed : .invalid
        return finish(verdict: verdict, series: series)
    }

    /// Walks the plan until its end, an interrupt, or an unconfirmed fault.
    func runSchedule(_ probes: [ContinuousProbe]) {
        for step in plan.steps {
            if !invalidReasons.isEmpty || wait(until: phaseStart + step.at, probes) { return }
            switch step.kind {
            case .inject(let f): inject(f, scheduled: step.at)
            case .revert(let f): revert(named: f.name)
            case .action(let a): journal.actions.append(runCommand(a, scheduled: step.at, kind: "action"))
            }
        }
        if invalidReasons.isEmpty { _ = wait(until: phaseStart + experiment.duration, probes) }
    }

    /// Waits for a deadline, showing progress on a terminal; `true` when interrupted.
    func wait(until deadline: Int64, _ probes: [ContinuousProbe]) -> Bool {
        guard console.isTTY else { return interrupts.wait(until: deadline) }
        while true {
            let slice = min(deadline, MonotonicClock.now() + 250_000_000)
            if interrupts.wait(until: slice) { return true }
            if slice >= deadline { return false }
            let elapsed = MonotonicClock.now() - phaseStart
            let tallies = zip(experiment.probes, probes).map { spec, p in
                let t = p.tally()
                let state = t.up.map { $0 ? "up" : console.style("DOWN", "red") } ?? "-"
                return "\(spec.name) \(state) (\(t.failed) of \(t.total) samples failed)"
            }
            console.progress(
                "[\(DurationText.format(elapsed)) / \(DurationText.format(experiment.duration))] \(held.count) fault(s) held · \(tallies.joined(separator: " · "))"
            )
        }
    }

    func finish(verdict: Verdict, series: [ProbeSeries]) -> Journal {
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
        journal.reasons += invalidReasons
        journal.verdict = v
        journal.exitCode = ExitCode.of(v, residue: !journal.residue.isEmpty)
        journal.finishedAt = MonotonicClock.wallISO8601()
        journal.durationNs = now
        event("run finished", "verdict \(v.rawValue)")
        return journal
    }

    /// Judges expectations over the recorded samples.
    func judge(_ series: [ProbeSeries]) {
        guard phaseStart > 0 else { return }
        let phase = (phaseStart - origin)..<(max(phaseEnd, phaseStart) - origin)
        var windows: [Range<Nanos>] = []
        var starts: [String: Nanos] = [:]
        for f in journal.faults {
            guard let t = f.injectedAt, let step = experiment.faults.first(where: { $0.name == f.name }) else { continue }
            starts[f.name] = t
            let end = f.revertedAt ?? step.duration.map { t + $0 } ?? phase.upperBound
            windows.append(t..<max(t, min(end, phase.upperBound)))
        }
        let judged = series + (history.map { [ProbeSeries(workload: $0)] } ?? [])
        journal.checks += ExpectationChecker.check(
            experiment.expectations, series: judged, faultWindows: windows, faultStarts: starts, phase: phase)
        journal.checks += ExpectationChecker.healed(experiment.expectations, faults: journal.faults)
        if let h = history {
            var actionStarts: [String: Nanos] = [:]
            for a in journal.actions { if let t = a.startedAt { actionStarts[a.name] = t } }
            journal.checks += WorkloadJudge.check(
                experiment.expectations, history: h, faultStarts: starts, actionStarts: actionStarts, phase: phase,
                now: MonotonicClock.now)
            journal.workload = WorkloadRecord(h, origin: phaseStart - origin)
        }
    }
}

extension String {
    func leftPadded(_ width: Int, with pad: Character = " ") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
