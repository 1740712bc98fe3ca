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

    @Test("region:NAME stands for the region's hosts; an outage cuts them off from every other host")
    func regions() {
        let regions = ["east": ["n1", "n2"], "west": ["n3", "n4", "n5"]]
        let g = PartitionFault(shape: .groups([["region:east"], ["region:west"]])).grudges(
            among: five, sets: HostSet(all: [], regions: regions))
        #expect(g["n1"] == ["n3", "n4", "n5"] && g["n4"] == ["n1", "n2"] && g.count == 5)
        let outage = PartitionFault(shape: .outage(["region:east"]))
        #expect(outage.grudges(among: five, sets: HostSet(all: [], regions: regions)) == g)
        #expect(outage.outageHosts(sets: HostSet(all: [], regions: regions)) == ["n1", "n2"])
        #expect(
            PartitionFault(shape: .isolate("region:east")).outageHosts(sets: HostSet(all: [], regions: regions)).isEmpty,
            "isolate is not an outage")
        let set = HostSet(all: five.map { HostSpec(name: $0, transport: .lab) }, regions: regions)
        #expect(set.expand(["region:west", "n1", "n3"]) == ["n3", "n4", "n5", "n1"])
        #expect(set.problem("region:north", path: "p") == "'p' names 'region:north', but the lab has no such region (valid: east, west)")
        #expect(set.problem("n9", path: "p")?.hasPrefix("'p' names 'n9', which is not a lab host") == true)
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
