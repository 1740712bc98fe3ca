/// What literal text every match of a pattern must contain, found from its syntax: how many
/// characters of the pattern's own text a match is held to (`redis-server` 12, `^/` 1, `.` 0),
/// and one literal that every match contains (to skip texts that cannot match).
struct PatternLiterals: Equatable {
    static let maxStrings = 64
    static let maxLength = 64
    /// A set counts as literal text when it is this small (a letter in both cases, `[-_]`).
    static let maxSet = 4

    /// Every string the node matches, when there are few and they are short.
    var exact: [[UInt32]]?
    /// Every match contains a run of the pattern's literal text at least this long.
    var required: Int
    /// A literal every match contains (the longest found; empty when none).
    var literal: [UInt32]

    static let nothing = PatternLiterals(exact: nil, required: 0, literal: [])

    static func of(_ node: PatternNode) -> PatternLiterals {
        switch node {
        case .empty, .assertion: return PatternLiterals(exact: [[]], required: 0, literal: [])
        case .scalar(let c): return PatternLiterals(exact: [[c]], required: 1, literal: [c])
        case .set(let s):
            guard s.count <= maxSet else { return .nothing }
            let all = s.ranges.flatMap { r in r.map { [$0] } }
            return PatternLiterals(exact: all, required: all.isEmpty ? 0 : 1, literal: all.count == 1 ? all[0] : [])
        case .any: return .nothing
        case .concat(let items): return concat(items.map(of))
        case .alternate(let branches):
            let infos = branches.map(of)
            var union: [[UInt32]]? = []
            for i in infos {
                guard let e = i.exact, let u = union, u.count + e.count <= maxStrings else {
                    union = nil
                    break
                }
                union = u + e
            }
            let required = infos.map(\.required).min() ?? 0
            let first = infos.first?.literal ?? []
            let common = infos.allSatisfy { $0.literal == first } ? first : []
            return PatternLiterals(exact: union, required: union.map(minLength) ?? required, literal: common)
        case .repetition(let x, let min, let max):
            let inner = of(x)
            if let e = inner.exact, let max, max <= maxStrings {
                var union: [[UInt32]]? = []
                for k in min...max {
                    guard let u = union, let power = Self.power(e, k), u.count + power.count <= maxStrings else {
                        union = nil
                        break
                    }
                    union = u + power
                }
                if let union { return PatternLiterals(exact: union, required: minLength(union), literal: []) }
            }
            guard min > 0 else { return .nothing }
            var copies = concat(Array(repeating: inner, count: Swift.min(min, 8)))
            if max != min { copies.exact = nil }
            return copies
        }
    }

    static func concat(_ infos: [PatternLiterals]) -> PatternLiterals {
        var best = 0
        var bestLiteral: [UInt32] = []
        var run: [[UInt32]] = [[]]
        var runLiteral: [UInt32] = []
        var whole: [[UInt32]]? = [[]]
        func endRun() {
            best = Swift.max(best, minLength(run))
            run = [[]]
        }
        func endLiteral() {
            if runLiteral.count > bestLiteral.count { bestLiteral = runLiteral }
            runLiteral = []
        }
        for i in infos {
            if let e = i.exact {
                if let crossed = cross(run, e) {
                    run = crossed
                } else {
                    endRun()
                    run = e
                }
                if e.count == 1 { runLiteral += e[0] } else { endLiteral() }
                whole = whole.flatMap { cross($0, e) }
            } else {
                endRun()
                endLiteral()
                best = Swift.max(best, i.required)
                if i.literal.count > bestLiteral.count { bestLiteral = i.literal }
                whole = nil
            }
        }
        endRun()
        endLiteral()
        return PatternLiterals(exact: whole, required: best, literal: bestLiteral)
    }

    static func cross(_ a: [[UInt32]], _ b: [[UInt32]]) -> [[UInt32]]? {
        guard a.count * b.count <= maxStrings else { return nil }
        var out: [[UInt32]] = []
        for x in a {
            for y in b {
                guard x.count + y.count <= maxLength else { return nil }
                out.append(x + y)
            }
        }
        return out
    }

    static func power(_ e: [[UInt32]], _ k: Int) -> [[UInt32]]? {
        var out: [[UInt32]]? = [[]]
        for _ in 0..<k { out = out.flatMap { cross($0, e) } }
        return out
    }

    static func minLength(_ strings: [[UInt32]]) -> Int { strings.map(\.count).min() ?? 0 }
}
