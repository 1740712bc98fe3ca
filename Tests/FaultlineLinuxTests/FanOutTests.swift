import Dispatch
import FaultlineCore
import Testing

@testable import FaultlineAgent
@testable import FaultlineLinux

@Suite("process faults over a list of hosts")
struct FanOutTests {
    @Test("host: [a, b, c] is one fault whose work is one part per host; plan and exclusion name all")
    func expands() throws {
        let e = try ExperimentLoader.load(
            text: """
                version: 1
                title: t
                hosts: {a: {local: {}}, b: {local: {}}, c: {local: {}}}
                duration: 5s
                faults:
                  - {name: k, at: 1s, duration: 1s, kill: {host: [a, b, c], process: sleep, signal: KILL}}
                  - {name: p, at: 3s, duration: 1s, pause: {host: [b, c], process: sleep}}
                """, file: "f.yaml")
        let kill = try #require(e.faults[0].spec as? KillFault)
        let works = try KillDriver().expand(kill, ExpansionContext(runId: "r", faultIndex: 0, hosts: HostSet(e)))
        #expect(works.map(\.host) == ["a", "b", "c"])
        #expect(works.allSatisfy { $0.process.fanOut == nil && $0.signal == 9 })
        #expect(kill.hosts(in: HostSet(e)) == ["a", "b", "c"])
        let pause = try #require(e.faults[1].spec as? PauseFault)
        #expect(try PauseDriver().expand(pause, ExpansionContext(runId: "r", faultIndex: 1, hosts: HostSet(e))).map(\.host) == ["b", "c"])
        #expect(Plan(e).render().contains("kill name 'sleep' on a, b, c with SIGKILL [k]"))
        // One exclusion for the whole list: another fault on the same processes of these hosts
        // may not hold at the same time.
        #expect(kill.exclusion?.key == "process a,b,c name 'sleep'", "\(String(describing: kill.exclusion))")
    }
}

@Suite("agent protocol: go lines and clock readings")
struct AgentProtocolTests {
    @Test("a go line round-trips its ids (the armed requests of one instant); anything else is not one")
    func goLines() {
        #expect(AgentRequest.goIds(AgentRequest.go([17])) == [17])
        #expect(AgentRequest.goIds(AgentRequest.go([3, 4, 50])) == [3, 4, 50])
        #expect(AgentRequest.goIds(Array(#"{"go":[0]}"#.utf8)) == [0])
        for bad in [
            #"{"go":[]}"#, #"{"go":[1x]}"#, #"{"go":[-1]}"#, #"{"go":[12"#, #"{"go":[1,]}"#, #"{"go":[,1]}"#, #"{"go":17}"#,
            #"{"id":1,"op":"bye"}"#, #"{"go":[1234567890123456789]}"#,
        ] {
            #expect(AgentRequest.goIds(Array(bad.utf8)) == nil, "\(bad)")
        }
    }

    @Test("the clock map comes from the reading with the shortest round trip")
    func clockMap() {
        // The agent's clock is 1,000,000 ahead; readings with round trips of 400, 100 and 900.
        let readings = [
            ClockReading(sent: 0, agent: 1_000_300, received: 400),
            ClockReading(sent: 1_000, agent: 1_001_050, received: 1_100),
            ClockReading(sent: 2_000, agent: 1_002_100, received: 2_900),
        ]
        let m = ClockMap.best(readings)
        #expect(m.known && m.offset == 1_000_000 && m.uncertainty == 50)
        #expect(m.local(1_005_000) == 5_000)
        #expect(ClockMap.best([]).local(5) == nil, "no reading: an instant cannot be placed")
        #expect(ClockMap.shared.local(42) == 42)
    }
}

@Suite("parallel work over hosts")
struct ParallelTests {
    @Test("map with a limit: results in order, never more than the limit at once, a slow element holds up no other")
    func limited() {
        let items = Array(0..<20)
        let running = Locked((now: 0, most: 0))
        let othersDone = DispatchSemaphore(value: 0)
        let finished = Locked(0)
        let results = Parallel.map(items, limit: 3) { i -> (Int, Bool) in
            running.mutate {
                $0.now += 1
                $0.most = max($0.most, $0.now)
            }
            defer { running.mutate { $0.now -= 1 } }
            // The first element waits for all the others: in waves of 3 they would wait for it.
            if i == 0 { return (i, othersDone.wait(timeout: .now() + 10) == .success) }
            if finished.mutate({ n -> Int in
                n += 1
                return n
            }) == items.count - 1 {
                othersDone.signal()
            }
            return (i * 10, true)
        }
        let values = results.map { $0.0 }
        let unblocked = results.allSatisfy { $0.1 }
        #expect(values == [0] + items.dropFirst().map { $0 * 10 })
        #expect(unblocked, "the slow first element held the others up")
        #expect(running.value.most <= 3)
    }
}
