import FaultlineCore
import Foundation

/// Notices when the runner itself stops running: a thread that sleeps `tick` at a time, at the
/// scheduler's realtime priority when it may, and records each wake later than
/// `RunnerStall.threshold` as a stall (the machine paused its VM, reclaimed memory, or starved
/// the runner). A probe sample failed across such a stretch measured the runner, not the target.
final class StallWatch: @unchecked Sendable {
    let origin: Int64
    let tick: Int64
    private let lock = NSLock()
    private var stalls: [RunnerStall] = []
    private var stopping = false
    private let done = DispatchSemaphore(value: 0)

    init(origin: Int64, tick: Int64 = 5_000_000) {
        self.origin = origin
        self.tick = tick
    }

    func start() {
        let thread = Thread { [self] in
            let realtime = promoteToRealtime(priority: 5)
            self.loop()
            if realtime { demoteFromRealtime() }
            self.done.signal()
        }
        thread.name = "stall watch"
        thread.start()
    }

    private func loop() {
        var deadline = MonotonicClock.now() + tick
        while true {
            MonotonicClock.sleep(until: deadline)
            let woke = MonotonicClock.now()
            lock.lock()
            if woke - deadline > RunnerStall.threshold {
                stalls.append(RunnerStall(at: deadline - origin, durationNs: woke - deadline))
                if stalls.count > 2 * RunnerStall.limit { keepLongest() }
            }
            let stop = stopping
            lock.unlock()
            if stop { return }
            deadline = woke + tick
        }
    }

    private func keepLongest() {
        stalls = stalls.sorted { $0.durationNs > $1.durationNs }.prefix(RunnerStall.limit).sorted { $0.at < $1.at }
    }

    /// Stops watching; the stalls seen, in time order.
    func stop() -> [RunnerStall] {
        lock.lock()
        stopping = true
        lock.unlock()
        done.wait()
        lock.lock()
        defer { lock.unlock() }
        if stalls.count > RunnerStall.limit { keepLongest() }
        return stalls
    }
}
