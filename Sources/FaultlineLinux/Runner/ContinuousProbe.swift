import FaultlineCore
import Foundation

/// Samples one probe on its own thread at a fixed interval, on absolute deadlines.
///
/// A sample that overruns its slot skips the missed slots rather than bursting to catch up, so
/// the recorded rate never exceeds the configured one.
final class ContinuousProbe: @unchecked Sendable {
    let spec: ProbeSpec
    let origin: Int64
    private let lock = NSLock()
    private var series: ProbeSeries
    private var stopping = false
    private let done = DispatchSemaphore(value: 0)
    /// Sees every sample as it is recorded (the brake's monitor), on the probe's thread.
    let brake: StopMonitor?

    init(_ spec: ProbeSpec, origin: Int64, brake: StopMonitor? = nil) {
        self.spec = spec
        self.origin = origin
        self.brake = brake.flatMap { $0.probes.contains(spec.name) ? $0 : nil }
        series = ProbeSeries(probe: spec.name, kind: spec.kind.name, interval: spec.interval)
    }

    func start(at first: Int64) {
        let thread = Thread { [self] in
            self.loop(first: first)
            self.done.signal()
        }
        thread.name = "probe \(spec.name)"
        thread.start()
    }

    private func loop(first: Int64) {
        let interval = spec.interval ?? 100_000_000
        let probe: (any Probe)?
        let setupError: String?
        do throws(ProbeError) {
            probe = try Probes.make(spec)
            setupError = nil
        } catch {
            probe = nil
            setupError = "probe setup: \(error)"
        }
        var next = first
        while !isStopping {
            MonotonicClock.sleep(until: next)
            let started = MonotonicClock.now()
            let s = probe?.sample() ?? ProbeSample(ok: false, latency: 0, reason: setupError)
            lock.lock()
            series.append(
                scheduled: next - origin, started: started - origin, latency: s.latency, ok: s.ok, reason: s.reason, value: s.value)
            lock.unlock()
            brake?.observe(
                probe: spec.name, kind: spec.kind.name, interval: spec.interval, started: started - origin, latency: s.latency, ok: s.ok,
                reason: s.reason, value: s.value)
            next += interval
            let now = MonotonicClock.now()
            if now > next { next += ((now - next) / interval + 1) * interval }
        }
    }

    private var isStopping: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    /// Stops sampling and returns everything recorded.
    func stop() -> ProbeSeries {
        lock.lock()
        stopping = true
        lock.unlock()
        done.wait()
        lock.lock()
        defer { lock.unlock() }
        return series
    }

    /// The latest outcome and how many samples failed so far, for live progress.
    func tally() -> (up: Bool?, failed: Int, total: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (series.ok.last, series.ok.lazy.filter { !$0 }.count, series.count)
    }
}
