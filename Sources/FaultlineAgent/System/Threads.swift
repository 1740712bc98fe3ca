internal import CLinux
import Glibc

// Threads and locks on pthreads: Foundation's `Thread`, `NSLock` and `NSCondition` live in the
// part of Foundation that links ICU, which the agent product does without.

/// A mutual-exclusion lock (a pthread mutex).
package final class Lock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    package init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    package func lock() { pthread_mutex_lock(mutex) }
    package func unlock() { pthread_mutex_unlock(mutex) }

    package func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// A lock with a condition to wait on, its timeouts on the monotonic clock (a wall-clock step
/// neither shortens nor stretches them).
package final class Condition: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    package init() {
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    package func lock() { pthread_mutex_lock(mutex) }
    package func unlock() { pthread_mutex_unlock(mutex) }
    package func broadcast() { pthread_cond_broadcast(cond) }
    package func signal() { pthread_cond_signal(cond) }

    /// Waits (the lock held) until signalled or the monotonic instant `deadline` (ns) passes;
    /// false once it has passed.
    @discardableResult
    package func wait(until deadline: Int64) -> Bool {
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        return pthread_cond_timedwait(cond, mutex, &ts) != ETIMEDOUT
    }
}

/// A detached thread running `body` once started, with the stack size asked for.
package final class PThread: @unchecked Sendable {
    private let body: () -> Void
    /// Bytes of stack; 0: the C library's default.
    package var stackSize = 0
    /// What `ps -L` and a debugger show (the kernel keeps 15 bytes of it).
    package var name: String?

    package init(_ body: @escaping () -> Void) { self.body = body }

    package func start() {
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        defer { pthread_attr_destroy(&attr) }
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        if stackSize > 0 { pthread_attr_setstacksize(&attr, stackSize) }
        let box = Unmanaged.passRetained(self).toOpaque()
        var id = pthread_t()
        let rc = pthread_create(
            &id, &attr,
            { raw in
                let me = Unmanaged<PThread>.fromOpaque(raw!).takeRetainedValue()
                if let name = me.name { faultline_name_thread(String(decoding: name.utf8.prefix(15), as: UTF8.self)) }
                me.body()
                return nil
            }, box)
        // Out of threads: the work runs here rather than never.
        if rc != 0 {
            Unmanaged<PThread>.fromOpaque(box).release()
            body()
        }
    }
}
