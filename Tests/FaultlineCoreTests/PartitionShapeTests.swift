import Testing

@testable import FaultlineCore

@Suite("partition shapes")
struct PartitionShapeTests {
    let five = ["n1", "n2", "n3", "n4", "n5"]

    /// The hosts `h` still exchanges packets with (itself included): nobody on either side drops.
    func visible(_ h: String, _ g: [String: [String]]) -> Set<String> {
        Set(five.filter { other in !(g[h] ?? []).contains(other) && !(g[other] ?? []).contains(h) })
    }

    @Test("groups cut every pair across groups, both ways")
    func groups() {
        let g = PartitionFault(shape: .groups([["n1"], ["n2", "n3"]])).grudges(among: five)
        #expect(g == ["n1": ["n2", "n3"], "n2": ["n1"], "n3": ["n1"]])
    }

    @Test("isolate and one-way")
    func isolateAndOneWay() {
        #expect(
            PartitionFault(shape: .isolate("n2")).grudges(among: ["n1", "n2", "n3"]) == ["n2": ["n1", "n3"], "n1": ["n2"], "n3": ["n2"]])
        // packets from n1 to n2 are dropped: n2 drops what comes from n1; n1 drops nothing
        #expect(PartitionFault(shape: .oneWay(from: ["n1"], to: ["n2"])).grudges(among: ["n1", "n2"]) == ["n2": ["n1"]])
    }

    @Test("halves: a minority and a majority, the same for the same seed, different for another")
    func halves() {
        let a = PartitionFault(shape: .halves, seed: 7).grudges(among: five)
        #expect(a == PartitionFault(shape: .halves, seed: 7).grudges(among: five))
        let sides = Set(five.map { visible($0, a) })
        #expect(sides.map(\.count).sorted() == [2, 3])
        let others = (0..<20).map { PartitionFault(shape: .halves, seed: UInt64($0)).grudges(among: five) }
        #expect(Set(others.map { "\($0.sorted { $0.key < $1.key })" }).count > 1)
    }

    /// As in Jepsen, a host "sees" the hosts it receives packets from (a grudge is an input drop).
    @Test("majorities ring: every host sees a majority, and no two see the same one", arguments: [3, 4, 5, 7])
    func majoritiesRing(_ n: Int) {
        let hosts = (1...n).map { "n\($0)" }
        let g = PartitionFault(shape: .majoritiesRing, seed: 11).grudges(among: hosts)
        let views = hosts.map { h in Set(hosts.filter { !(g[h] ?? []).contains($0) }) }
        for (h, v) in zip(hosts, views) {
            #expect(v.count == n / 2 + 1)
            #expect(v.contains(h))
        }
        #expect(Set(views).count == n)
    }

    @Test("bridge: two halves cut from each other, one host that sees everyone")
    func bridge() {
        let g = PartitionFault(shape: .bridge, seed: 3).grudges(among: five)
        let views = five.map { visible($0, g) }
        #expect(views.filter { $0.count == 5 }.count == 1)
        #expect(views.filter { $0.count == 3 }.count == 4)
    }
}
