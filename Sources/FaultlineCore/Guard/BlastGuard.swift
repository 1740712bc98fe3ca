/// The blast-radius and quorum guard: at every instant a fault begins, what the faults holding
/// then take — hosts, each group's share, each quorum's majority — against `safety:`.
///
/// Pure: the plan checks faults whose hosts are known (`validate` refuses a plan that breaks a
/// limit, `plan` shows the arithmetic), and the runner checks a role's fault again once the
/// role has named its host, before it is injected.
public struct BlastGuard: Sendable {
    public struct Group: Sendable, Equatable {
        public var name: String
        public var hosts: [String]
        public var quorum: Bool
    }

    public let safety: Safety
    public let groups: [Group]
    /// Every host a partition's cut can divide (for `max_hosts`).
    let peers: [String]
    let hosts: HostSet

    public init(_ e: Experiment) {
        safety = e.safety
        hosts = HostSet(e)
        peers = hosts.peerHosts
        var quorums: [String: [String]] = [:]
        for (k, v) in e.lab?.quorums ?? [:] { quorums[k] = v }
        for (k, v) in e.quorums { quorums[k] = v }
        for (k, v) in e.safety.quorums { quorums[k] = v }
        var groups = quorums.sorted { $0.key < $1.key }.map { Group(name: $0.key, hosts: $0.value, quorum: true) }
        var labGroups: [String: [String]] = [:]
        for h in e.lab?.hosts ?? [] { if let g = h.group { labGroups[g, default: []].append(h.name) } }
        for (k, v) in e.groups where k != "all" && k != "ungrouped" { labGroups[k] = v }
        for (k, v) in labGroups.sorted(by: { $0.key < $1.key }) where quorums[k] == nil && v.count > 1 {
            groups.append(Group(name: k, hosts: v, quorum: false))
        }
        self.groups = groups
    }

    /// Whether anything is guarded at all (a quorum, or a limit).
    public var isActive: Bool { groups.contains { $0.quorum } || safety.maxHosts != nil || safety.maxShare != nil }

    /// What the faults holding at one instant take, and what that breaks.
    public struct Evaluation: Sendable {
        /// Host → the faults taking it.
        public var taken: [String: [String]] = [:]
        /// Per group: how many of its hosts are taken, of how many.
        public var shares: [(group: Group, taken: [String])] = []
        /// What breaks a limit, in words.
        public var problems: [String] = []
    }

    /// Judges the faults holding at once (name and what each takes).
    public func evaluate(_ active: [(name: String, impact: FaultImpact)]) -> Evaluation {
        var e = Evaluation()
        var down: [String: [String]] = [:]
        var slowed: [String: [String]] = [:]
        var cuts: [(name: String, grudges: [String: [String]])] = []
        for a in active {
            switch a.impact {
            case .hosts(let hs): for h in hs { down[h, default: []].append(a.name) }
            case .degraded(let hs): for h in hs { slowed[h, default: []].append(a.name) }
            case .cuts(let g): cuts.append((a.name, g))
            }
        }
        /// The members a group loses (those down, and those cut off from its largest part), and
        /// with `degraded` the slowed ones too.
        func lost(_ members: [String], degraded: Bool = true) -> [String: [String]] {
            var out: [String: [String]] = [:]
            for m in members { if let by = down[m] { out[m] = by } }
            if degraded { for m in members { if let by = slowed[m] { out[m, default: []] += by } } }
            let up = members.filter { down[$0] == nil }
            for c in cuts {
                let kept = Set(Self.largestConnected(up, c.grudges))
                for m in up where !kept.contains(m) { out[m, default: []].append(c.name) }
            }
            return out
        }
        e.taken = lost(Array(Set(peers).union(down.keys).union(slowed.keys)).sorted())
        if let max = safety.maxHosts, e.taken.count > max {
            e.problems.append("\(e.taken.count) hosts faulted at once (\(Self.list(e.taken))); 'safety.max_hosts' is \(max)")
        }
        for g in groups {
            let l = lost(g.hosts)
            let size = g.hosts.count
            let gone = lost(g.hosts, degraded: false)
            e.shares.append((g, (g.quorum ? gone : l).keys.sorted()))
            if g.quorum, !safety.quorumLossIntended {
                let left = size - gone.count
                let majority = size / 2 + 1
                if left < majority {
                    e.problems.append(
                        "\(gone.count) of the \(size) hosts of quorum '\(g.name)' taken at once (\(Self.list(gone))): \(left) left, a majority is \(majority); write 'safety: {quorum_loss: intended}' if the experiment means to lose it"
                    )
                }
            }
            if let share = safety.maxShare, Double(l.count) > share * Double(size) {
                e.problems.append(
                    "\(l.count) of the \(size) hosts of \(g.quorum ? "quorum" : "group") '\(g.name)' faulted at once (\(Self.list(l))); 'safety.max_share' is \(PercentText.format(share))"
                )
            }
        }
        return e
    }

    /// The instants a known fault begins, with what holds then (faults whose host a role picks
    /// when it fires are left to the runner, and named). One sweep over the faults in order of
    /// start: each joins the active set once and leaves it once.
    public func instants(_ e: Experiment) -> [(at: Nanos, starting: [String], evaluation: Evaluation)] {
        let known = e.faults.filter { $0.spec.role == nil }.sorted { $0.at < $1.at }
        let windows = known.map { $0.window(experimentDuration: e.duration) }
        let impacts = known.map { $0.spec.impact(in: hosts) }
        var out: [(at: Nanos, starting: [String], evaluation: Evaluation)] = []
        var active: [Int] = []
        var next = 0
        while next < known.count {
            let t = known[next].at
            var starting: [Int] = []
            while next < known.count, known[next].at == t {
                starting.append(next)
                next += 1
            }
            active = active.filter { windows[$0].contains(t) } + starting
            let ev = evaluate(active.map { (known[$0].name, impacts[$0]) })
            out.append((t, starting.map { known[$0].name }, ev))
            // A fault of no length holds only at its own instant.
            active = active.filter { !windows[$0].isEmpty }
        }
        return out
    }

    /// How many checks `instants` makes: at each instant a fault begins, the faults active then
    /// and the hosts of every group and of the whole fleet. Bounded, since a file of many long
    /// faults and an inventory of many groups could otherwise make validation take minutes;
    /// counted with binary searches, not by doing the work.
    public func cost(_ e: Experiment) -> Int {
        let known = e.faults.filter { $0.spec.role == nil }
        let windows = known.map { $0.window(experimentDuration: e.duration) }
        let starts = known.map(\.at).sorted()
        let ends = windows.map(\.upperBound).sorted()
        var empty: [Nanos: Int] = [:]
        for w in windows where w.isEmpty { empty[w.lowerBound, default: 0] += 1 }
        /// How many of the sorted `xs` are ≤ `t`.
        func upTo(_ xs: [Nanos], _ t: Nanos) -> Int {
            var (lo, hi) = (0, xs.count)
            while lo < hi {
                let mid = (lo + hi) / 2
                if xs[mid] <= t { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        let perInstant = peers.count + groups.reduce(0) { $0 + $1.hosts.count }
        var total = 0
        for t in Set(starts) {
            let active = upTo(starts, t) - upTo(ends, t) + (empty[t] ?? 0)
            let (sum, overflow) = total.addingReportingOverflow(active + perInstant)
            if overflow { return .max }
            total = sum
        }
        return total
    }

    /// The most host checks validation spends on the guard.
    public static let budget = 20_000_000

    /// `n1 (k1), n2 (k2, cut)`.
    static func list(_ taken: [String: [String]]) -> String {
        taken.sorted { $0.key < $1.key }.map { "\($0.key) by \($0.value.map { "'\($0)'" }.joined(separator: ", "))" }
            .joined(separator: ", ")
    }

    /// The largest set of `members` that all still reach each other (neither drops the
    /// other): exact for up to 12 members (4,096 subsets), else the largest connected part.
    static func largestConnected(_ members: [String], _ grudges: [String: [String]]) -> [String] {
        let n = members.count
        guard n > 1 else { return members }
        let drops = grudges.mapValues(Set.init)
        func linked(_ a: Int, _ b: Int) -> Bool {
            !(drops[members[a]]?.contains(members[b]) ?? false) && !(drops[members[b]]?.contains(members[a]) ?? false)
        }
        if n <= 12 {
            var adj = [Int](repeating: 0, count: n)
            for a in 0..<n { for b in 0..<n where a != b && linked(a, b) { adj[a] |= 1 << b } }
            var best = 0
            for mask in 1..<(1 << n) where mask.nonzeroBitCount > best.nonzeroBitCount {
                var ok = true
                var m = mask
                while m != 0 {
                    let i = m.trailingZeroBitCount
                    m &= m - 1
                    if (adj[i] | (1 << i)) & mask != mask {
                        ok = false
                        break
                    }
                }
                if ok { best = mask }
            }
            return (0..<n).filter { best & (1 << $0) != 0 }.map { members[$0] }
        }
        var seen = Set<Int>()
        var largest: [Int] = []
        for s in 0..<n where !seen.contains(s) {
            var part: [Int] = []
            var stack = [s]
            seen.insert(s)
            while let x = stack.popLast() {
                part.append(x)
                for y in 0..<n where !seen.contains(y) && linked(x, y) {
                    seen.insert(y)
                    stack.append(y)
                }
            }
            if part.count > largest.count { largest = part }
        }
        return largest.sorted().map { members[$0] }
    }
}
