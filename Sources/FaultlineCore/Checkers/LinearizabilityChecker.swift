/// Linearizability of single-value registers, one key at a time: the Wing–Gong search with
/// Lowe's memoisation (as in Knossos and Porcupine). Pure.
///
/// Every acknowledged operation must take effect at one instant between its invocation and
/// completion, in an order a register allows (a read returns the latest write). A write with
/// unknown outcome may take effect any time after its invocation, or never: it is given an
/// open end. Failed operations and reads that got no answer carry no information and are left
/// out. The search is exponential in the worst case, so it has a time budget: over budget the
/// verdict is `unknown`, never `linearizable`.
public enum LinearizabilityChecker {
    public enum Verdict: Equatable, Sendable {
        case linearizable
        /// The key and the operations of the longest prefix that could be linearized ended at
        /// this invocation time; no order explains the operation after it.
        case notLinearizable(key: String, at: Nanos, op: History.Op)
        case unknown(reason: String)
    }

    public struct Report: Equatable, Sendable {
        public var verdict: Verdict
        public var keys: Int
        public var operations: Int
    }

    /// `now` reads a monotonic clock in ns (injected, so the checker stays pure and testable).
    public static func check(_ ops: [History.Op], budget: Nanos, now: () -> Nanos) -> Report {
        var byKey: [String: [History.Op]] = [:]
        var n = 0
        // A write of unknown outcome whose value no read returned may be taken never to have
        // happened, losing no order: in any linearization no read sees it, so removing it
        // leaves every read's latest write as it was. Values are unique, so "returned" is
        // exact. This keeps the search from branching over writes a cut-off member timed out.
        var read = Set<String>()
        for op in ops where op.kind == .read && op.outcome == .ok && !op.value.isEmpty { read.insert("\(op.key)\u{0}\(op.value)") }
        let unseen = { (op: History.Op) in op.kind == .write && op.outcome == .unknown && !read.contains("\(op.key)\u{0}\(op.value)") }
        for op in ops where (op.outcome == .ok || (op.kind == .write && op.outcome == .unknown)) && !unseen(op) {
            byKey[op.key, default: []].append(op)
            n += 1
        }
        let deadline = now() + budget
        for key in byKey.keys.sorted() {
            let v = checkKey(key, byKey[key] ?? [], deadline: deadline, now: now)
            if v != .linearizable { return Report(verdict: v, keys: byKey.count, operations: n) }
        }
        return Report(verdict: .linearizable, keys: byKey.count, operations: n)
    }

    static func checkKey(_ key: String, _ all: [History.Op], deadline: Nanos, now: () -> Nanos) -> Verdict {
        // Operations with a known end first, in invocation order; open-ended ones (writes of
        // unknown outcome) after them. The finite ones linearize roughly in index order, which
        // keeps the memo keys small (see `memoKey`).
        let isOpen = { (op: History.Op) in op.kind == .write && op.outcome == .unknown }
        let finite = all.filter { !isOpen($0) }.sorted { $0.invokedAt < $1.invokedAt }
        let ops = finite + all.filter(isOpen)
        let m = finite.count
        // Values as small integers; 0 is "no value yet".
        var ids: [String: Int32] = [:]
        var value = [Int32](repeating: 0, count: ops.count)
        let isWrite = ops.map { $0.kind == .write }
        for (i, op) in ops.enumerated() where !op.value.isEmpty {
            if let id = ids[op.value] {
                value[i] = id
            } else {
                let id = Int32(ids.count + 1)
                ids[op.value] = id
                value[i] = id
            }
        }
        // Entries: a call (2i) and a return (2i+1) per operation, in time order; calls first on
        // ties, which only ever allows more orders.
        let count = ops.count
        var order = [Int](0..<(2 * count))
        let time = { (e: Int) -> Nanos in
            let op = ops[e >> 1]
            if e & 1 == 0 { return op.invokedAt }
            return e >> 1 >= m ? .max : op.completedAt
        }
        order.sort { a, b in
            let (ta, tb) = (time(a), time(b))
            return ta != tb ? ta < tb : (a & 1) < (b & 1)
        }
        // A doubly linked list over the entries, with a head sentinel at index 2 * count.
        let head = 2 * count
        var next = [Int](repeating: -1, count: 2 * count + 1)
        var prev = [Int](repeating: -1, count: 2 * count + 1)
        var last = head
        for e in order {
            next[last] = e
            prev[e] = last
            last = e
        }
        func lift(_ call: Int) {
            let ret = call | 1
            next[prev[call]] = next[call]
            if next[call] >= 0 { prev[next[call]] = prev[call] }
            next[prev[ret]] = next[ret]
            if next[ret] >= 0 { prev[next[ret]] = prev[ret] }
        }
        func unlift(_ call: Int) {
            let ret = call | 1
            if next[ret] >= 0 { prev[next[ret]] = ret }
            next[prev[ret]] = ret
            if next[call] >= 0 { prev[next[call]] = call }
            next[prev[call]] = call
        }
        let words = (count + 63) / 64
        var linearized = [UInt64](repeating: 0, count: words)
        // Every finite operation below `low` is linearized; `done` counts the finite ones.
        var low = 0
        var done = 0
        func bit(_ i: Int) -> Bool { linearized[i >> 6] & (1 << UInt64(i & 63)) != 0 }
        /// The `n` (≤ 64) bits from bit `pos` on, as one word.
        func word(at pos: Int, count n: Int) -> UInt64 {
            let (w, sh) = (pos >> 6, UInt64(pos & 63))
            var chunk = linearized[w] >> sh
            if sh != 0, w + 1 < words { chunk |= linearized[w + 1] << (64 - sh) }
            return n < 64 ? chunk & ((1 << UInt64(n)) - 1) : chunk
        }
        func mark(_ i: Int) {
            linearized[i >> 6] |= 1 << UInt64(i & 63)
            guard i < m else { return }
            done += 1
            while low < m, bit(low) { low += 1 }
        }
        func unmark(_ i: Int) {
            linearized[i >> 6] &= ~(1 << UInt64(i & 63))
            guard i < m else { return }
            done -= 1
            low = min(low, i)
        }
        // The linearized set as `low`, the few finite operations linearized beyond it (a
        // window as wide as the concurrency), and the open-ended ones. The window's first two
        // words are stored inline: with a concurrency under 128 a key needs no allocation.
        let openWords = (count - m + 63) / 64
        func memoKey(_ state: Int32) -> CacheKey {
            var key = CacheKey(low: Int32(low), state: state)
            var remaining = done - low
            var pos = low
            while remaining > 0 {
                let chunk = word(at: pos, count: min(64, m - pos))
                switch pos - low {
                case 0: key.w0 = chunk
                case 64: key.w1 = chunk
                default: key.rest.append(chunk)
                }
                remaining -= chunk.nonzeroBitCount
                pos += 64
            }
            if openWords > 0 {
                key.rest.append(contentsOf: stride(from: m, to: count, by: 64).map { word(at: $0, count: min(64, count - $0)) })
            }
            return key
        }
        var seen = MemoSet()
        var stack: [(call: Int, state: Int32)] = []
        var state: Int32 = 0
        var entry = next[head]
        var steps = 0
        // The operation that could not be placed when the search had got furthest.
        var blocked: (depth: Int, op: Int)?
        while next[head] >= 0 {
            steps += 1
            if steps & 0xFFF == 0, now() > deadline {
                return .unknown(reason: "search budget spent on key '\(key)' after \(steps) steps")
            }
            if entry & 1 == 0 {
                let i = entry >> 1
                let ok: Bool
                let after: Int32
                if isWrite[i] {
                    (ok, after) = (true, value[i])
                } else {
                    (ok, after) = (value[i] == state, state)
                }
                if ok {
                    mark(i)
                    if seen.count >= memoLimit {
                        return .unknown(reason: "search memory limit (\(memoLimit) configurations) reached on key '\(key)'")
                    }
                    if seen.insert(memoKey(after)) {
                        stack.append((entry, state))
                        state = after
                        lift(entry)
                        entry = next[head]
                        continue
                    }
                    unmark(i)
                } else if stack.count >= blocked?.depth ?? 0 {
                    blocked = (stack.count, i)
                }
                entry = next[entry]
            } else {
                // A return reached with its call not linearized: undo the last choice.
                guard let (call, before) = stack.popLast() else {
                    let op = ops[blocked?.op ?? entry >> 1]
                    return .notLinearizable(key: key, at: op.invokedAt, op: op)
                }
                unmark(call >> 1)
                state = before
                unlift(call)
                entry = next[call]
            }
        }
        return .linearizable
    }

    /// Configurations remembered per key before the search gives up as `unknown` (each costs
    /// some 100 bytes, so about 1 GiB at the limit).
    static let memoLimit = 10_000_000

    /// The configurations seen. Keys without `rest` (nearly all) live in an open-addressing
    /// table of their four inline fields, hashed by multiply–xorshift rather than SipHash:
    /// hashing and rehashing the standard `Set` took a third of a search's time. Keys with
    /// `rest` go to a `Set`.
    struct MemoSet {
        private static let empty = UInt64.max  // low is never negative: no key packs to this
        private var head = [UInt64](repeating: MemoSet.empty, count: 1 << 12)
        private var w0 = [UInt64](repeating: 0, count: 1 << 12)
        private var w1 = [UInt64](repeating: 0, count: 1 << 12)
        private var inline = 0
        private var other = Set<CacheKey>()
        var count: Int { inline + other.count }

        /// True if the key was not there before.
        mutating func insert(_ key: CacheKey) -> Bool {
            guard key.rest.isEmpty else { return other.insert(key).inserted }
            if (inline + 1) * 2 > head.count { grow() }
            let packed = UInt64(UInt32(bitPattern: key.low)) << 32 | UInt64(UInt32(bitPattern: key.state))
            return place(packed, key.w0, key.w1)
        }

        private mutating func place(_ packed: UInt64, _ a: UInt64, _ b: UInt64) -> Bool {
            let mask = head.count - 1
            var x = (packed &* 0x9E37_79B9_7F4A_7C15) ^ a
            x = ((x ^ (x >> 32)) &* 0xD6E8_FEB8_6659_FD93) ^ b
            x = (x ^ (x >> 32)) &* 0xD6E8_FEB8_6659_FD93
            var i = Int(truncatingIfNeeded: x ^ (x >> 29)) & mask
            while head[i] != MemoSet.empty {
                if head[i] == packed, w0[i] == a, w1[i] == b { return false }
                i = (i + 1) & mask
            }
            (head[i], w0[i], w1[i]) = (packed, a, b)
            inline += 1
            return true
        }

        private mutating func grow() {
            let (oldHead, oldW0, oldW1) = (head, w0, w1)
            head = [UInt64](repeating: MemoSet.empty, count: oldHead.count * 2)
            w0 = [UInt64](repeating: 0, count: oldHead.count * 2)
            w1 = [UInt64](repeating: 0, count: oldHead.count * 2)
            inline = 0
            for i in oldHead.indices where oldHead[i] != MemoSet.empty { _ = place(oldHead[i], oldW0[i], oldW1[i]) }
        }
    }

    /// A configuration of the search: the register's state and which operations are
    /// linearized (see `memoKey`). `rest` holds window words beyond the second, then the
    /// open-ended operations' words; it stays empty (unallocated) in the common case. The
    /// window's length needs no field: its last word is never zero (it ends at the last
    /// linearized operation), and the open-ended words are as many in every key of a search.
    struct CacheKey: Hashable {
        var low: Int32
        var state: Int32
        var w0: UInt64 = 0
        var w1: UInt64 = 0
        var rest: [UInt64] = []
    }

    public static func checks(_ ops: [History.Op], budget: Nanos, origin: Nanos, name: String, now: () -> Nanos) -> CheckResult {
        let started = now()
        let r = check(ops, budget: budget, now: now)
        let took = DurationText.format(now() - started)
        let scope = "\(r.operations) operations on \(r.keys) keys, searched in \(took)"
        switch r.verdict {
        case .linearizable:
            return CheckResult(name: name, passed: true, expected: "true", measured: "true", evidence: scope)
        case .notLinearizable(let key, _, let op):
            let what = op.kind == .write ? "write '\(op.value)'" : "read of '\(op.value.isEmpty ? "(nothing)" : op.value)'"
            return CheckResult(
                name: name, passed: false, expected: "true", measured: "false",
                evidence:
                    "\(scope); key \(key): no order explains the \(what) at \(op.endpoint), invoked at +\(DurationText.format(op.invokedAt - origin))"
            )
        case .unknown(let reason):
            return CheckResult(name: name, passed: false, expected: "true", measured: "unknown", evidence: "\(scope); \(reason)")
        }
    }
}
