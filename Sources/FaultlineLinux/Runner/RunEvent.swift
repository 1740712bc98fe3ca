import FaultlineCore

/// What the runner reports as a run goes: typed, so that renderers (a live terminal view,
/// plain lines, JSON lines) and the journal each take what they need.
public struct RunEvent: Sendable {
    /// Since the run began, on the monotonic clock.
    public var at: Nanos
    public var kind: Kind

    public enum Kind: Sendable {
        case started(runId: String, title: String)
        /// A line from bringing the lab up or down, or about its use.
        case lab(String, detail: String? = nil)
        case agentReady(host: String, pid: Int32)
        /// An agent stopped answering, or its channel ended, before the run closed it.
        case agentLost(host: String, reason: String)
        /// What `faultline recover` said on a host whose agent was lost.
        case recovered(host: String, ok: Bool, lines: [String])
        /// A fault made ready for its hosts before anything is injected (the engine chosen).
        case preflight(fault: String, note: String)
        case preflightFailed(fault: String, problem: String)
        case hostConnected(host: String, detail: String)
        case hostUnreachable(host: String, problem: String)
        case proxyStarted(host: String, detail: String)
        case proxyFailed(host: String, problem: String)
        case steadyState(before: Bool, ok: Bool, detail: String?)
        case workloadNotReady(String)
        case phaseStarted(duration: Nanos, steps: Int)
        case roleResolved(role: String, host: String, fault: String)
        case roleUnresolved(role: String, reason: String)
        case injected(fault: String, detail: String?)
        case confirmed(fault: String, after: Nanos, how: String?)
        case notConfirmed(fault: String, reason: String?)
        case injectFailed(fault: String, reason: String)
        case reverted(fault: String, detail: String)
        case revertFailed(fault: String, host: String, reason: String?)
        /// A held fault's effect is gone (a healed partition).
        case revertConfirmed(fault: String, detail: String)
        case revertUnconfirmed(fault: String, problems: [String])
        /// A new process replaced what a kill took (self-healing).
        case replaced(fault: String, by: String, seenAt: Nanos)
        /// An action or a rollback ran (or could not).
        case command(role: String, name: String, detail: String)
        case workloadRead(String)
        /// The runner itself did not run for a while (one of the longest stalls of the phase).
        case runnerStalled(RunnerStall)
        /// A stop condition held, or a halt came: every fault is reverted at once.
        case stopped(StopRecord)
        /// Every fault held at the stop is reverted.
        case brakeReleased(StopRecord)
        case residueLimited(host: String?, String)
        case residue([String])
        /// A second SIGINT/SIGTERM while reverting.
        case interruptedAgain
        /// Live state during the fault phase, for views that redraw; not journaled.
        case progress(RunProgress)
        case finished(Verdict)
    }

    /// The journal's line for this event; nil for the ones it does not keep.
    public var timeline: TimelineEvent? {
        if case .interruptedAgain = kind { return nil }
        guard let (what, detail) = text else { return nil }
        return TimelineEvent(at: at, what: what, detail: detail)
    }

    /// What and detail, as the journal and the plain renderer write them.
    public var text: (String, String?)? {
        switch kind {
        case .started(let id, let title): return ("run \(id) started", title)
        case .lab(let line, let detail): return (line, detail)
        case .agentReady(let host, let pid): return ("agent on \(host) ready", "pid \(pid)")
        case .agentLost(let host, let reason): return ("AGENT LOST on \(host)", reason)
        case .recovered(let host, let ok, let lines):
            return ("\(ok ? "recovered" : "RECOVERY FAILED") on \(host)", lines.isEmpty ? nil : lines.joined(separator: "; "))
        case .preflight(let f, let note): return ("prepared \(f)", note)
        case .preflightFailed(let f, let problem): return ("CANNOT RUN \(f)", problem)
        case .hostConnected(let host, let detail): return ("connected to \(host)", detail)
        case .hostUnreachable(let host, let problem): return ("HOST UNREACHABLE \(host)", problem)
        case .proxyStarted(let host, let detail): return ("proxies on \(host)", detail)
        case .proxyFailed(let host, let problem): return ("PROXIES FAILED on \(host)", problem)
        case .steadyState(let before, let ok, let detail):
            return ("steady state \(before ? "before" : "after"): \(ok ? "ok" : "FAILED")", detail)
        case .workloadNotReady(let why): return ("WORKLOAD NOT READY", why)
        case .phaseStarted(let d, let n): return ("fault phase started", "\(DurationText.format(d)), \(n) scheduled steps")
        case .roleResolved(let role, let host, let fault): return ("role '\(role)' is \(host)", "for \(fault)")
        case .roleUnresolved(let role, let why): return ("could not resolve role '\(role)'", why)
        case .injected(let f, let detail): return ("inject \(f)", detail)
        case .confirmed(let f, let after, let how):
            return ("confirmed \(f)", "after \(DurationText.format(after))" + (how.map { ": \($0)" } ?? ""))
        case .notConfirmed(let f, let why): return ("NOT confirmed \(f)", why)
        case .injectFailed(let f, let why): return ("could not inject \(f)", why)
        case .reverted(let f, let detail): return ("reverted \(f)", detail)
        case .revertFailed(let f, let host, let why): return ("REVERT FAILED \(f) on \(host)", why)
        case .revertConfirmed(let f, let detail): return ("healed \(f)", detail)
        case .revertUnconfirmed(let f, let problems): return ("NOT healed \(f)", problems.joined(separator: "; "))
        case .replaced(let f, let by, let at): return ("healed \(f)", "new process \(by) seen at +\(DurationText.format(at))")
        case .command(let role, let name, let detail): return ("\(role) \(name)", detail)
        case .workloadRead(let detail): return ("workload final read", detail)
        case .runnerStalled(let s):
            return (
                "RUNNER STALLED",
                "not running for \(DurationText.format(s.durationNs)) from +\(DurationText.format(s.at)): failed samples across it are left out"
            )
        case .stopped(let s):
            return ("STOPPED: \(s.condition)", "\(s.measured) (at +\(DurationText.format(s.at)))")
        case .brakeReleased(let s):
            return (
                "brake: every fault reverted",
                "\(s.faults) fault\(s.faults == 1 ? "" : "s") held, reverted \(s.reactionNs.map(DurationText.format) ?? "-") after the stop"
            )
        case .residueLimited(let host, let why): return ("residue check limited\(host.map { " on \($0)" } ?? "")", why)
        case .residue(let items): return ("RESIDUE", items.joined(separator: "; "))
        case .interruptedAgain: return ("interrupted again", "still reverting")
        case .progress: return nil
        case .finished(let v): return ("run finished", "verdict \(v.rawValue)")
        }
    }
}

/// The fault phase at a glance: elapsed time, faults held, each probe's state.
public struct RunProgress: Sendable {
    public struct Probe: Sendable {
        public var name: String
        /// The last sample's outcome; nil before the first.
        public var up: Bool?
        public var failed: Int
        public var total: Int
    }
    public var elapsed: Nanos
    public var duration: Nanos
    public var held: Int
    public var probes: [Probe]
}

/// Receives a run's events as they happen (on the runner's threads).
public protocol RunObserver: AnyObject, Sendable {
    /// Whether `.progress` events are wanted (a view that redraws); others get none.
    var wantsProgress: Bool { get }
    func observe(_ event: RunEvent)
}
