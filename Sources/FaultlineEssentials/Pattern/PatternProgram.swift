/// A pattern compiled to a Thompson NFA and run as a Pike VM: every thread advances one
/// character at a time, so matching costs at most (instructions × characters) steps, whatever
/// the pattern — no backtracking, no input that takes exponential time.
struct PatternProgram: Sendable, Equatable {
    enum Op: Equatable, Sendable {
        case scalar(UInt32)
        case set(Int)
        case any
        case anyButNewline
        case split(Int, Int)
        case jump(Int)
        case assert(PatternAssertion)
        case match
    }

    static let maxOps = 20_000

    var ops: [Op] = []
    var sets: [ScalarSet] = []
    /// Every match starts at the beginning of the text (`^…` without `m`).
    var anchored = false

    static func compile(_ node: PatternNode) throws(PatternError) -> PatternProgram {
        var p = PatternProgram()
        try p.emit(node)
        p.ops.append(.match)
        p.anchored = Self.startsAnchored(node)
        return p
    }

    static func startsAnchored(_ node: PatternNode) -> Bool {
        switch node {
        case .assertion(.textStart): return true
        case .concat(let items): return items.first.map(startsAnchored) ?? false
        case .alternate(let branches): return branches.allSatisfy(startsAnchored)
        default: return false
        }
    }

    mutating func add(_ op: Op) throws(PatternError) -> Int {
        guard ops.count < Self.maxOps else {
            throw PatternError(
                offset: 1, message: "the pattern expands to more than \(Self.maxOps) steps; use fewer or smaller repetitions")
        }
        ops.append(op)
        return ops.count - 1
    }

    mutating func emit(_ node: PatternNode) throws(PatternError) {
        switch node {
        case .empty: break
        case .scalar(let c): _ = try add(.scalar(c))
        case .set(let s):
            sets.append(s)
            _ = try add(.set(sets.count - 1))
        case .any(let dotAll): _ = try add(dotAll ? .any : .anyButNewline)
        case .assertion(let a): _ = try add(.assert(a))
        case .concat(let items): for i in items { try emit(i) }
        case .alternate(let branches):
            // split L1, next; L1: a; jump end; next: split L2, … ; last branch falls through.
            var jumps: [Int] = []
            for (i, b) in branches.enumerated() {
                if i == branches.count - 1 {
                    try emit(b)
                    break
                }
                let split = try add(.split(0, 0))
                try emit(b)
                jumps.append(try add(.jump(0)))
                ops[split] = .split(split + 1, ops.count)
            }
            for j in jumps { ops[j] = .jump(ops.count) }
        case .repetition(let x, let min, let max):
            for _ in 0..<min { try emit(x) }
            if let max {
                // Each optional copy may be skipped to the end.
                var splits: [Int] = []
                for _ in min..<max {
                    splits.append(try add(.split(0, 0)))
                    try emit(x)
                }
                for s in splits { ops[s] = .split(s + 1, ops.count) }
            } else {
                let loop = try add(.split(0, 0))
                try emit(x)
                _ = try add(.jump(loop))
                ops[loop] = .split(loop + 1, ops.count)
            }
        }
    }

    /// Whether `text` holds a match, spending at most `budget` steps (decremented); throws when
    /// the budget runs out before the answer is known.
    func matches(_ text: [UInt32], budget: inout Int) throws(PatternBudgetExceeded) -> Bool {
        var marks = [Int](repeating: -1, count: ops.count)
        var current: [Int] = []
        var next: [Int] = []
        current.reserveCapacity(ops.count)
        next.reserveCapacity(ops.count)
        var stack: [Int] = []
        if try add(0, at: 0, into: &current, marks: &marks, stack: &stack, text: text, budget: &budget) { return true }
        var pos = 0
        while pos < text.count {
            if current.isEmpty, anchored { return false }
            let c = text[pos]
            next.removeAll(keepingCapacity: true)
            budget -= current.count
            if budget < 0 { throw PatternBudgetExceeded() }
            for pc in current {
                let taken: Bool
                switch ops[pc] {
                case .scalar(let s): taken = c == s
                case .set(let i): taken = sets[i].contains(c)
                case .any: taken = true
                case .anyButNewline: taken = !Self.isLineTerminator(c)
                default: taken = false
                }
                if taken, try add(pc + 1, at: pos + 1, into: &next, marks: &marks, stack: &stack, text: text, budget: &budget) {
                    return true
                }
            }
            pos += 1
            if !anchored, try add(0, at: pos, into: &next, marks: &marks, stack: &stack, text: text, budget: &budget) { return true }
            swap(&current, &next)
        }
        return false
    }

    /// Adds the thread at `pc` and everything it reaches without consuming a character; true
    /// when that reaches the match.
    private func add(
        _ pc: Int, at pos: Int, into list: inout [Int], marks: inout [Int], stack: inout [Int], text: [UInt32], budget: inout Int
    ) throws(PatternBudgetExceeded) -> Bool {
        stack.append(pc)
        while let pc = stack.popLast() {
            if marks[pc] == pos { continue }
            marks[pc] = pos
            budget -= 1
            if budget < 0 { throw PatternBudgetExceeded() }
            switch ops[pc] {
            case .jump(let t): stack.append(t)
            case .split(let a, let b):
                stack.append(b)
                stack.append(a)
            case .assert(let a): if Self.holds(a, at: pos, in: text) { stack.append(pc + 1) }
            case .match:
                stack.removeAll(keepingCapacity: true)
                return true
            default: list.append(pc)
            }
        }
        return false
    }

    static func holds(_ a: PatternAssertion, at pos: Int, in text: [UInt32]) -> Bool {
        let n = text.count
        switch a {
        case .textStart: return pos == 0
        case .textEnd: return pos == n || (pos == n - 1 && text[n - 1] == 10)
        case .lineStart: return pos == 0 || isLineTerminator(text[pos - 1])
        case .lineEnd: return pos == n || isLineTerminator(text[pos])
        case .wordBoundary, .notWordBoundary:
            let before = pos > 0 && isWord(text[pos - 1])
            let after = pos < n && isWord(text[pos])
            return (before != after) == (a == .wordBoundary)
        }
    }

    static func isLineTerminator(_ c: UInt32) -> Bool { c == 10 || c == 13 || c == 0x85 || c == 0x2028 || c == 0x2029 }
    static func isWord(_ c: UInt32) -> Bool { ScalarSet.word.contains(c) }
}

/// A match that would have cost more steps than it was given.
public struct PatternBudgetExceeded: Error, Equatable, Sendable {}
