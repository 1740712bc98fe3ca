import FaultlineEssentials
import FoundationEssentials
import Glibc

/// The monotonic clock, in nanoseconds. Every timestamp in a timeline comes from here.
public enum MonotonicClock {
    /// Now, from `clock_gettime(CLOCK_MONOTONIC)`.
    @inline(__always)
    public static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Sleeps until the absolute instant `deadline`, with `clock_nanosleep(TIMER_ABSTIME)`.
    public static func sleep(until deadline: Int64) {
        // A deadline already past costs a system call and a reschedule all the same.
        if now() >= deadline { return }
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
    }

    /// The wall clock in UTC as ISO 8601 with milliseconds (`2026-11-27T08:26:50.123Z`).
    ///
    /// Formatted with `gmtime_r`: Foundation's formatters load ICU and time-zone data, which
    /// costs a CLI several milliseconds at start.
    public static func wallISO8601() -> String {
        let (t, ms) = wallNow()
        return "\(padded(t.tm_year + 1900, 4))-\(padded(t.tm_mon + 1, 2))-\(padded(t.tm_mday, 2))T"
            + "\(padded(t.tm_hour, 2)):\(padded(t.tm_min, 2)):\(padded(t.tm_sec, 2)).\(padded(ms, 3))Z"
    }

    /// UTC now as compact text for run ids: `20261127-082650`.
    public static func wallCompact() -> String {
        let (t, _) = wallNow()
        return "\(padded(t.tm_year + 1900, 4))\(padded(t.tm_mon + 1, 2))\(padded(t.tm_mday, 2))-"
            + "\(padded(t.tm_hour, 2))\(padded(t.tm_min, 2))\(padded(t.tm_sec, 2))"
    }

    private static func wallNow() -> (tm, Int32) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = tm()
        var seconds = ts.tv_sec
        gmtime_r(&seconds, &t)
        return (t, Int32(ts.tv_nsec / 1_000_000))
    }
}

/// The text of the current `errno`.
package func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

/// An instant on the monotonic clock — not an offset from a run's start (that is `Nanos`).
/// Kept apart by type so that one is never stored where the other belongs.
public struct MonotonicInstant: Comparable, Hashable, Sendable {
    public var ns: Int64

    public init(ns: Int64) { self.ns = ns }

    public static var now: MonotonicInstant { MonotonicInstant(ns: MonotonicClock.now()) }

    /// The span between two instants.
    public static func - (a: MonotonicInstant, b: MonotonicInstant) -> Nanos { a.ns - b.ns }
    public static func + (a: MonotonicInstant, d: Nanos) -> MonotonicInstant { MonotonicInstant(ns: a.ns + d) }
    public static func < (a: MonotonicInstant, b: MonotonicInstant) -> Bool { a.ns < b.ns }
}

/// The host's system clock (CLOCK_REALTIME), as the `clock` fault's system form steps it. Its
/// relation to the boot clock (CLOCK_BOOTTIME, which nothing steps) is what a revert restores:
/// `realtime = boottime + delta` is absolute, so putting it back twice is putting it back once.
package enum SystemClock {
    static func read(_ clock: clockid_t) -> Int64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// CLOCK_REALTIME − CLOCK_BOOTTIME, in nanoseconds.
    package static func bootDelta() -> Int64 { read(CLOCK_REALTIME) - read(CLOCK_BOOTTIME) }

    /// Sets CLOCK_REALTIME so that it is `delta` ahead of the boot clock.
    package static func set(bootDelta delta: Int64) throws(FaultError) {
        let target = read(CLOCK_BOOTTIME) + delta
        var ts = timespec(tv_sec: Int(target / 1_000_000_000), tv_nsec: Int(target % 1_000_000_000))
        guard clock_settime(CLOCK_REALTIME, &ts) == 0 else { throw FaultError.system("clock_settime: \(errnoText())") }
    }

    /// The time synchronisation daemons that would step or slew a stepped clock back.
    package static let daemons: Set<String> = ["chronyd", "ntpd", "openntpd", "systemd-timesyn", "timesyncd", "ptp4l", "phc2sys"]
}
