/// The shapes of a partition, and the grudges they become.
///
/// Every shape becomes a *grudge*: for each host, the hosts whose packets it drops. Symmetric
/// cuts are grudges both ways; a one-way cut is a grudge on the receiving side only.
extension PartitionFault {
    public enum Shape: Codable, Equatable, Sendable {
        /// Hosts in different groups cannot exchange packets.
        case groups([[String]])
        /// One host cut from every other.
        case isolate(String)
        /// Packets from `from` to `to` are dropped; the other direction flows.
        case oneWay(from: [String], to: [String])
        /// Two random halves (the larger one a majority).
        case halves
        /// Jepsen's majorities ring: every host sees a majority, no two see the same one.
        case majoritiesRing
        /// Two halves and one host in the middle that sees both.
        case bridge
        /// Hosts (or `region:NAME`) cut off from everything — other hosts, the runner and every
        /// client: each drops every packet that does not come from its own loopback.
        case outage([String])

        /// As the journal's `target` and messages show it: `isolate e3`, `groups n1 | n2,n3`.
        public var summary: String {
            switch self {
            case .groups(let g): return "groups " + g.map { $0.joined(separator: ",") }.joined(separator: " | ")
            case .isolate(let h): return "isolate \(h)"
            case .oneWay(let from, let to): return "from \(from.joined(separator: ",")) to \(to.joined(separator: ","))"
            case .halves: return "halves"
            case .majoritiesRing: return "majorities-ring"
            case .bridge: return "bridge"
            case .outage(let hs): return "outage \(hs.joined(separator: ","))"
            }
        }
    }

    public static let shapeNames = ["halves", "majorities-ring", "bridge"]

    /// For each host, the sorted hosts it drops packets from (hosts with no grudge are left out).
    public func grudges(among allHosts: [String], sets set: HostSet = HostSet(all: [])) -> [String: [String]] {
        var g: [String: Set<String>] = [:]
        func cut(_ a: [String], _ b: [String]) {
            for x in a { for y in b where x != y { g[x, default: []].insert(y) } }
        }
        switch shape {
        case .groups(let groups):
            let gs = groups.map { set.expand($0) }
            for (i, a) in gs.enumerated() { for (j, b) in gs.enumerated() where i != j { cut(a, b) } }
        case .isolate(let h):
            let cutOff = set.expand([h])
            let others = allHosts.filter { !cutOff.contains($0) }
            cut(cutOff, others)
            cut(others, cutOff)
        case .outage(let hs):
            let cutOff = set.expand(hs)
            let others = allHosts.filter { !cutOff.contains($0) }
            cut(cutOff, others)
            cut(others, cutOff)
        case .oneWay(let from, let to):
            cut(set.expand(to), set.expand(from))
        case .halves:
            let s = shuffled(allHosts)
            let small = Array(s.prefix(s.count / 2))
            let large = Array(s.dropFirst(s.count / 2))
            cut(small, large)
            cut(large, small)
        case .majoritiesRing:
            // In ring order each host sees itself and the nearest hosts on both sides that make a
            // majority; it drops everyone else.
            let s = shuffled(allHosts)
            let n = s.count
            let majority = n / 2 + 1
            for (i, h) in s.enumerated() {
                var visible: Set<String> = [h]
                var k = 1
                while visible.count < majority {
                    visible.insert(s[(i + k) % n])
                    if visible.count < majority { visible.insert(s[(i - k + n) % n]) }
                    k += 1
                }
                cut([h], s.filter { !visible.contains($0) })
            }
        case .bridge:
            let s = shuffled(allHosts)
            let middle = s[s.count / 2]
            let rest = s.filter { $0 != middle }
            let a = Array(rest.prefix(rest.count / 2))
            let b = Array(rest.dropFirst(rest.count / 2))
            cut(a, b)
            cut(b, a)
        }
        return g.filter { !$0.value.isEmpty }.mapValues { $0.sorted() }
    }

    /// A deterministic shuffle (SplitMix64), the same on every platform for a seed.
    func shuffled(_ hosts: [String]) -> [String] {
        var random = SplitMix(seed)
        var out = hosts.sorted()
        guard out.count > 1 else { return out }
        for i in stride(from: out.count - 1, to: 0, by: -1) {
            let j = Int(random.next() % UInt64(i + 1))
            out.swapAt(i, j)
        }
        return out
    }

    /// Every host the spec names (generated shapes name all lab hosts).
    public func namedHosts(among all: [String]) -> [String] {
        switch shape {
        case .groups(let g): return g.flatMap { $0 }
        case .isolate(let h): return [h]
        case .outage(let hs): return hs
        case .oneWay(let f, let t): return f + t
        case .halves, .majoritiesRing, .bridge: return all
        }
    }

    /// The hosts an outage cuts off from everything (none for the other shapes).
    public func outageHosts(sets: HostSet = HostSet(all: [])) -> Set<String> {
        guard case .outage(let hs) = shape else { return [] }
        return Set(sets.expand(hs))
    }
}
