import Foundation
import Glibc

nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

/// Async-signal-safe: only `write(2)` of the signal number to a pipe.
private func forwardSignal(_ signal: Int32) {
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(signalPipeWriteEnd, &byte, 1)
}

/// SIGINT/SIGTERM turned into a flag that waits can observe.
///
/// A real handler (not a blocked mask) is installed, so whichever thread the kernel picks, the
/// process never dies of the default action while faults are held.
public final class Interrupts: @unchecked Sendable {
    public static let shared = Interrupts(handlesSignals: true)
    private let condition = NSCondition()
    private var received: Int32?
    private var receivedInstant: Int64?
    private var count = 0
    private var installed = false
    /// Bumped by `wake`, so a wait can end for another reason than a signal.
    private var wakes = 0
    private let handlesSignals: Bool
    /// Called on the watcher thread for every signal after the first.
    public var onRepeat: (@Sendable (Int32) -> Void)?

    private init(handlesSignals: Bool) { self.handlesSignals = handlesSignals }

    /// Interrupts that no signal reaches, only `raise`: for tests of what an interrupt does.
    public static func manual() -> Interrupts { Interrupts(handlesSignals: false) }

    /// Installs the handlers (idempotent; nothing for a manual instance).
    public func install() {
        condition.lock()
        defer { condition.unlock() }
        guard !installed, handlesSignals else { return }
        installed = true
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        signalPipeWriteEnd = fds[1]
        var action = sigaction()
        action.__sigaction_handler.sa_handler = forwardSignal
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        // Output to a reader that went away (`faultline run | head`) must not end the run
        // before it has reverted; writes report EPIPE instead.
        Glibc.signal(SIGPIPE, SIG_IGN)
        // A blocked mask is inherited across exec (CI runners and test harnesses do block these):
        // unblock them here, or they would stay pending while faults are held.
        var mask = sigset_t()
        sigemptyset(&mask)
        sigaddset(&mask, SIGINT)
        sigaddset(&mask, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &mask, nil)
        let readEnd = fds[0]
        Thread { [self] in
            var byte: UInt8 = 0
            while true {
                let n = read(readEnd, &byte, 1)
                if n < 0, errno == EINTR { continue }
                guard n == 1 else { return }
                self.deliver(Int32(byte))
            }
        }.start()
    }

    /// Acts as if `signal` had arrived.
    public func raise(_ signal: Int32) { deliver(signal) }

    /// Ends every current `wait` early (it returns `true`), without an interrupt: something else
    /// the waiter must look at happened.
    public func wake() {
        condition.lock()
        wakes += 1
        condition.broadcast()
        condition.unlock()
    }

    private func deliver(_ signal: Int32) {
        condition.lock()
        count += 1
        let first = received == nil
        if first {
            received = signal
            receivedInstant = MonotonicClock.now()
        }
        condition.broadcast()
        condition.unlock()
        if !first { onRepeat?(signal) }
    }

    /// The first signal received, if any.
    public var signal: Int32? {
        condition.lock()
        defer { condition.unlock() }
        return received
    }

    /// When the first signal arrived, on the monotonic clock.
    public var receivedAt: Int64? {
        condition.lock()
        defer { condition.unlock() }
        return receivedInstant
    }

    /// How many `wake`s there have been: pass it to `wait(until:since:)` to count one that comes
    /// between a check and the wait.
    public var generation: Int {
        condition.lock()
        defer { condition.unlock() }
        return wakes
    }

    /// Sleeps until the monotonic `deadline`, an interrupt or a `wake` (since `generation`, when
    /// given); `true` when it ended early.
    ///
    /// The last two milliseconds are slept with `clock_nanosleep(TIMER_ABSTIME)` for precision.
    public func wait(until deadline: Int64, since generation: Int? = nil) -> Bool {
        let coarse = deadline - 2_000_000
        condition.lock()
        let woken = generation ?? wakes
        while received == nil, wakes == woken {
            let remaining = coarse - MonotonicClock.now()
            if remaining <= 0 { break }
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(remaining) / 1e9))
        }
        let early = received != nil || wakes != woken
        condition.unlock()
        if !early { MonotonicClock.sleep(until: deadline) }
        return early
    }
}
