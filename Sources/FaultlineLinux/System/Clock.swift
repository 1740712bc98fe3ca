import Foundation
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
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
    }

    /// The wall clock as ISO 8601 with milliseconds, for humans and `started_at`.
    public static func wallISO8601(_ date: Date = Date()) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }
}

/// The text of the current `errno`.
func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
