import Dispatch
import FaultlineEssentials
import FoundationEssentials
import Glibc

/// The queue engine's delay line: the agent's thread that holds each queued packet until its
/// due instant, then returns its verdict. One thread, a heap of held packets ordered by due time,
/// and `ppoll` on the queue's socket until the next due instant (with the thread's timer slack
/// at 1 ns, so it wakes when asked); verdicts due together go out in one write.
///
/// If the agent dies, its queue's socket closes: the rule's queue-bypass lets packets through,
/// and the table it owned goes with it. A crash is safe by construction.
package final class NetworkDelayLine: @unchecked Sendable {
    package struct Stats: Sendable, Equatable {
        var received = 0
        var dropped = 0
        var corrupted = 0
        var released = 0
        /// Released later than due by more than 1 ms.
        var late = 0
        /// The kernel dropped queue messages (the socket's buffer overflowed).
        var overflows = 0
        /// The thread ran under SCHED_FIFO (it does when the agent may ask for it, as root may).
        var realtime = false
        /// CPU time the thread used, nanoseconds (CLOCK_THREAD_CPUTIME_ID when it ended).
        var cpu: Nanos = 0
        /// How long packets were held, nanoseconds: a sample (every packet up to 100,000).
        var held: [Nanos] = []
        /// Release time minus due time, nanoseconds, for the same packets.
        var lateness: [Nanos] = []
    }

    private struct Held: Comparable {
        var due: Int64
        var order: UInt64
        var id: UInt32
        var arrived: Int64
        var payload: [UInt8]?
        static func < (a: Held, b: Held) -> Bool { (a.due, a.order) < (b.due, b.order) }
    }

    let queue: NfQueue
    private var model: NetworkDelayModel
    private var heap = Heap<Held>()
    private var order: UInt64 = 0
    private let lock = Lock()
    private var stats = Stats()
    private var stopping = false
    private let done = DispatchSemaphore(value: 0)
    private var thread: PThread?

    init(queue: NfQueue, shaping: Shaping, seed: UInt64) {
        self.queue = queue
        model = NetworkDelayModel(shaping, seed: seed)
    }

    func start() {
        let t = PThread { [self] in
            prctlTimerSlack()
            let rt = promoteToRealtime()
            lock.lock()
            stats.realtime = rt
            lock.unlock()
            loop()
            var ts = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
            lock.lock()
            stats.cpu = Nanos(ts.tv_sec) * 1_000_000_000 + Nanos(ts.tv_nsec)
            lock.unlock()
            done.signal()
        }
        t.name = "delay line \(queue.number)"
        t.stackSize = 1 << 20
        thread = t
        t.start()
    }

    /// Stops the thread and returns every held packet to the kernel, accepted at once, and every
    /// packet still waiting in the socket (the caller has deleted the rules that queue them).
    func stop() -> Stats {
        lock.lock()
        stopping = true
        lock.unlock()
        // The loop wakes at least every 50 ms to look at `stopping`.
        done.wait()
        while let h = heap.pop() { queue.verdict(h.id, accept: true, payload: h.payload) }
        // Packets the kernel queued that the thread had not read yet: passed too. Closing the
        // socket with them unanswered would drop them (a lost SYN costs its sender a second).
        var unread = 0
        _ = queue.drain { packet in
            unread += 1
            queue.verdict(packet.id, accept: true)
        }
        queue.flush()
        lock.lock()
        stats.received += unread
        stats.released += unread
        lock.unlock()
        lock.lock()
        defer { lock.unlock() }
        return stats
    }

    var snapshot: Stats {
        lock.lock()
        defer { lock.unlock() }
        return stats
    }

    private func loop() {
        while true {
            lock.lock()
            let stop = stopping
            lock.unlock()
            if stop { return }
            let now = MonotonicClock.now()
            let wake = min(heap.peek()?.due ?? .max, now + 50_000_000)
            if queue.wait(until: wake) { receive() }
            release(upTo: MonotonicClock.now())
        }
    }

    private func receive() {
        let now = MonotonicClock.now()
        var received = 0
        var dropped = 0
        var corrupted = 0
        let (_, overflowed) = queue.drain { packet in
            received += 1
            switch model.decide() {
            case .drop:
                dropped += 1
                queue.verdict(packet.id, accept: false)
            case .hold(let d, let corrupt):
                var payload = packet.payload
                if corrupt, var p = payload, p.count > 1 {
                    // One bit of the IPv4 header (past version and length): its checksum no longer
                    // holds and the receiver's IP layer discards it, as a real corrupted frame is.
                    var bits = SplitMix(UInt64(packet.id) &* 0x9E37_79B9)
                    let byte = 1 + Int(bits.next() % UInt64(min(19, p.count - 1)))
                    p[byte] ^= UInt8(1 << (bits.next() % 8))
                    payload = p
                    corrupted += 1
                }
                order += 1
                heap.push(Held(due: now + d, order: order, id: packet.id, arrived: now, payload: payload))
            }
        }
        queue.flush()
        lock.lock()
        stats.received += received
        stats.dropped += dropped
        stats.corrupted += corrupted
        if overflowed { stats.overflows += 1 }
        lock.unlock()
    }

    /// Every packet due by `now` (and within 20 µs of it: a wake-up costs more), in one write.
    private func release(upTo now: Int64) {
        var held: [Nanos] = []
        var lateness: [Nanos] = []
        var late = 0
        while let top = heap.peek(), top.due <= now + 20_000 {
            guard let h = heap.pop() else { break }
            queue.verdict(h.id, accept: true, payload: h.payload)
            let released = MonotonicClock.now()
            held.append(released - h.arrived)
            lateness.append(released - h.due)
            if released - h.due > 1_000_000 { late += 1 }
        }
        guard !held.isEmpty else { return }
        queue.flush()
        lock.lock()
        stats.released += held.count
        stats.late += late
        let room = max(0, 100_000 - stats.held.count)
        stats.held += held.prefix(room)
        stats.lateness += lateness.prefix(room)
        lock.unlock()
    }
}

/// This thread's timer slack to 1 ns (`/proc/thread-self/timerslack_ns`, as PR_SET_TIMERSLACK
/// sets it): its sleeps end when they should, not the default 50 µs later.
private func prctlTimerSlack() {
    let fd = open("/proc/thread-self/timerslack_ns", O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return }
    _ = write(fd, "1", 1)
    close(fd)
}

/// This thread to SCHED_FIFO at a low real-time priority: a held packet's release then waits for
/// no ordinary process, which on a busy host is the difference between 0.1 ms and several ms of
/// added error. The thread sleeps between releases and does bounded work per wake-up, and the
/// kernel's real-time throttling (`sched_rt_runtime_us`) caps it in any case. False when refused.
package func promoteToRealtime(priority: Int32 = 10) -> Bool {
    var param = sched_param()
    param.sched_priority = priority
    return pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0
}

/// The calling thread back to the normal scheduler.
package func demoteFromRealtime() {
    var param = sched_param()
    param.sched_priority = 0
    _ = pthread_setschedparam(pthread_self(), SCHED_OTHER, &param)
}

/// A binary min-heap.
struct Heap<T: Comparable> {
    private var items: [T] = []

    var isEmpty: Bool { items.isEmpty }
    var count: Int { items.count }
    func peek() -> T? { items.first }

    mutating func push(_ x: T) {
        items.append(x)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i] < items[parent] else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    @discardableResult
    mutating func pop() -> T? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var m = i
            if l < items.count, items[l] < items[m] { m = l }
            if r < items.count, items[r] < items[m] { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return top
    }
}
