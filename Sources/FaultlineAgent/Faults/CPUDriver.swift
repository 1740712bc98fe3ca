import FaultlineEssentials
import Glibc

extension CPUFault: TaggedWork {}

/// Starts `workers` CPU workers; revert ends them. Confirmed by the CPU they use; measured as
/// the cores they used over the hold, beside the host's CPU pressure. The limit form sets the
/// target cgroup's quota instead (`CgroupLimits`).
public struct CPUDriver: FaultEffect {
    public init() {}

    public func prepare(_ work: CPUFault) throws(FaultError) -> Injection {
        if let limit = work.limit { return try CgroupLimits.prepare(limit) }
        try Workers.requireFresh(tag: work.tag, kind: "cpu")
        var i = Injection(
            undo: [.endWorkers(tag: work.tag)],
            summary: "\(work.workers) CPU worker\(work.workers == 1 ? "" : "s") at \(PercentText.format(work.load))")
        i.baseline["pressure"] = Workers.pressure("cpu") ?? -1
        return i
    }

    public func apply(_ work: CPUFault, _ injection: Injection) throws(FaultError) {
        if work.limit != nil { return try CgroupLimits.apply(injection) }
        _ = try Workers.start(Self.worker, tag: work.tag, count: work.workers, ["--load", "\(work.load)"])
        CPUDriver.started.mutate { $0[work.tag] = MonotonicClock.now() }
    }

    /// Every worker running and each using at least half its share over 200 ms.
    public func confirm(_ work: CPUFault, _ injection: Injection, deadline: Int64) -> Confirmation {
        if work.limit != nil { return CgroupLimits.confirm(injection, deadline: deadline) }
        let workers = Workers.find(tag: work.tag)
        guard workers.count == work.workers else {
            return Confirmation(ok: false, detail: "\(workers.count) of \(work.workers) workers running", at: nil)
        }
        let window: Int64 = 200_000_000
        let before = workers.map { Workers.cpuTicks($0.pid) ?? 0 }
        let start = MonotonicClock.now()
        usleep(UInt32(window / 1000))
        let elapsed = Double(MonotonicClock.now() - start) / 1e9
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        let used = zip(workers, before).map { w, b in Double((Workers.cpuTicks(w.pid) ?? b) - b) / hz / elapsed }
        let share = used.reduce(0, +) / Double(work.workers)
        guard share >= work.load / 2 else {
            return Confirmation(
                ok: false,
                detail: "the workers used \(PercentText.format(share)) of a core each, not half of \(PercentText.format(work.load))",
                at: nil)
        }
        return Confirmation(ok: true, detail: "\(work.workers) workers using \(PercentText.format(share)) of a core each", at: start)
    }

    /// The cores the workers used since they started, and the host's CPU pressure then and now.
    public func measure(_ work: CPUFault, _ injection: Injection) -> String? {
        if let limit = work.limit { return CgroupLimits.measure(limit, injection) }
        let workers = Workers.find(tag: work.tag)
        guard let startedAt = CPUDriver.started.value[work.tag] else { return nil }
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        let seconds = Double(MonotonicClock.now() - startedAt) / 1e9
        let cores = workers.compactMap { Workers.cpuTicks($0.pid) }.reduce(0) { $0 + Double($1) } / hz / max(seconds, 0.001)
        let before = injection.baseline["pressure"].flatMap { $0 >= 0 ? $0 : nil }
        let pressure = Workers.pressure("cpu").map { now in
            "; CPU pressure (some, avg10) \(before.map { FixedText.format($0, 1) } ?? "-")% before, \(FixedText.format(now, 1))% now"
        }
        return
            "\(work.workers) workers at \(PercentText.format(work.load)) asked: \(FixedText.format(cores, 2)) cores used over \(FixedText.format(seconds, 1)) s (\(PercentText.format(cores / Double(work.workers))) each)"
            + (pressure ?? "")
    }

    /// When each tag's workers started, for `measure`.
    static let started = Locked([String: Int64]())
}

extension CPUDriver: WorkerBody {
    package static let worker = "cpu"

    package static func work(_ values: [String: String], parent: Int32) -> Int32 {
        guard let load = values["--load"].flatMap({ Double($0) }), load > 0, load <= 1 else { return ExitCode.badInput }
        spin(load: load, parent: parent)
    }

    /// Busy for `load` of every 100 ms period, asleep for the rest, on absolute deadlines; ends
    /// once `parent` is no longer its parent.
    static func spin(load: Double, parent: Int32) -> Never {
        let period: Int64 = 100_000_000
        let busy = Int64(Double(period) * load)
        var start = MonotonicClock.now()
        var sink: UInt64 = 0
        while true {
            while MonotonicClock.now() - start < busy { sink = sink &* 6_364_136_223_846_793_005 &+ 1 }
            start += period
            if busy < period { MonotonicClock.sleep(until: start) }
            if sink == 42 { Output.stdout("") }  // keeps the loop from being optimised away
            if getppid() != parent { exit(0) }
        }
    }
}
