import FaultlineCore
import Testing

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
