import FaultlineEssentials
import Glibc

extension ClockFault: FaultWork {}

/// Writes the host's libfaketime control file; revert writes back what it held. Confirmed, and
/// measured, by reading the wall clock through libfaketime with that file, against this
/// process's own.
public struct ClockDriver: FaultEffect {
    public init() {}

    public func prepare(_ work: ClockFault) throws(FaultError) -> Injection {
        if work.system == true { return Self.prepareSystem(work) }
        guard UndoStep.isClockFile(work.file) else {
            throw FaultError.refused("'\(work.file)' is not a clock control file (a faultline bug)")
        }
        guard let old = ProcFS.read(work.file)?.trimmingBlanks, UndoStep.isFaketimeOffset(old) else {
            throw FaultError.target("\(work.file) is missing or holds no clock offset: is the lab up with 'clock: faketime'?")
        }
        return Injection(undo: [.setClock(file: work.file, offset: old)], summary: "wall clock \(work.faketime) in \(work.file)")
    }

    public func apply(_ work: ClockFault, _ injection: Injection) throws(FaultError) {
        if work.system == true {
            // The daemons first: none may step the clock back between the step and its pause.
            try FaultEffects.send(SIGSTOP, to: injection.targets)
            guard let delta = Self.recordedDelta(injection) else { throw FaultError.refused("no recorded clock (a faultline bug)") }
            return try SystemClock.set(bootDelta: delta + work.offset)
        }
        try UndoStep.writeClock(work.file, work.faketime)
        if work.rate != nil { Self.started.mutate { $0[work.file] = MonotonicClock.now() } }
    }

    /// A drifting clock's offset moves on with the time since the fault's start.
    public func tick(_ work: ClockFault, _ injection: Injection) {
        guard work.rate != nil, let start = Self.started.value[work.file] else { return }
        try? UndoStep.writeClock(work.file, ClockFault.faketime(work.offset(after: MonotonicClock.now() - start)))
    }

    /// When each drifting clock started drifting (by control file).
    static let started = Locked([String: Int64]())

    /// A process under libfaketime reads the wall clock off by the offset (±250 ms).
    public func confirm(_ work: ClockFault, _ injection: Injection, deadline: Int64) -> Confirmation {
        if work.system == true {
            let seen = Self.systemOffset(injection)
            let ok = abs(seen - Double(work.offset) / 1e9) < 0.05
            return Confirmation(
                ok: ok, detail: "the system clock reads \(Self.signed(seen)) off where it was\(ok ? "" : ", not \(work.faketime)")",
                at: ok ? MonotonicClock.now() : nil)
        }
        guard let seen = Self.offsetSeen(work.file) else {
            return Confirmation(ok: false, detail: "could not read the clock through libfaketime", at: nil)
        }
        let expected = Double(Self.started.value[work.file].map { work.offset(after: MonotonicClock.now() - $0) } ?? work.offset) / 1e9
        let ok = abs(seen - expected) < 0.25
        return Confirmation(
            ok: ok,
            detail: "a process under libfaketime reads the wall clock \(Self.signed(seen)) off\(ok ? "" : ", not \(work.faketime)")",
            at: ok ? MonotonicClock.now() : nil)
    }

    public func measure(_ work: ClockFault, _ injection: Injection) -> String? {
        if work.system == true {
            return "\(work.faketime) asked: the system clock read \(Self.signed(Self.systemOffset(injection))) off just before the revert"
        }
        let asked = work.rate.map { "\(work.faketime) at ×\($0)" } ?? work.faketime
        let out = Self.offsetSeen(work.file).map { "\(asked) asked: the wall clock read \(Self.signed($0)) off just before the revert" }
        Self.started.mutate { $0[work.file] = nil }
        return out
    }

    /// The system form: the undo holds the clock's relation to the boot clock before the step
    /// (an absolute undo), and stops the time synchronisation daemons found running, which the
    /// undo continues after the clock is back.
    static func prepareSystem(_ work: ClockFault) -> Injection {
        let delta = SystemClock.bootDelta()
        let daemons = ProcFS.pids().compactMap { pid -> ProcessRef? in
            guard let s = ProcFS.stat(pid), SystemClock.daemons.contains(s.comm), s.state != "T" else { return nil }
            return ProcessRef(pid: pid, startTime: s.startTime, name: s.comm)
        }
        let paused =
            daemons.isEmpty ? "no time synchronisation daemon running" : "\(daemons.map(\.description).joined(separator: ", ")) paused"
        let i = Injection(
            targets: daemons, undo: [.setSystemClock(bootDelta: delta)] + daemons.map { .signal($0, signal: SIGCONT) },
            summary: "system clock \(work.faketime) (\(paused))")
        return i
    }

    /// Seconds the system clock is off its relation to the boot clock before the step.
    static func systemOffset(_ injection: Injection) -> Double {
        Double(SystemClock.bootDelta() - (recordedDelta(injection) ?? SystemClock.bootDelta())) / 1e9
    }

    static func recordedDelta(_ injection: Injection) -> Int64? {
        for case .setSystemClock(let d) in injection.undo { return d }
        return nil
    }

    static func signed(_ s: Double) -> String { "\(s < 0 ? "-" : "+")\(FixedText.format(abs(s), 3)) s" }

    /// Seconds between the wall clock `date` reads under libfaketime with `file` and this process's.
    static func offsetSeen(_ file: String) -> Double? {
        let env = Faketime.environment(file: file).merging(["PATH": "/usr/bin:/bin"]) { a, _ in a }
        var before = timespec()
        clock_gettime(CLOCK_REALTIME, &before)
        let r = Spawner.run(.argv(["date", "+%s.%N"]), timeout: 5_000_000_000, environment: env)
        var after = timespec()
        clock_gettime(CLOCK_REALTIME, &after)
        guard r.status == 0, let faked = Double(r.output.trimmingBlanks) else { return nil }
        let real = (Double(before.tv_sec) + Double(after.tv_sec)) / 2 + (Double(before.tv_nsec) + Double(after.tv_nsec)) / 2e9
        return faked - real
    }
}
