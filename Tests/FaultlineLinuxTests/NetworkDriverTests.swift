import FaultlineCore
import Foundation
import Testing

@testable import FaultlineAgent
@testable import FaultlineLinux

/// The network fault as written, and the choices its driver makes from what a host answers —
/// without a host: the answers are given, the questions recorded.
@Suite("network fault: reading and preflight")
struct NetworkDriverTests {
    func fault(_ yaml: String) throws -> NetworkFault {
        let text = "version: 1\ntitle: t\nduration: 10s\nfaults:\n  - {name: n, at: 1s, duration: 2s, network: \(yaml)}\n"
        let e = try ExperimentLoader.load(text: text, file: "n.yaml")
        return try #require(e.faults.first?.spec as? NetworkFault)
    }

    /// Agent answers by capability name (missing: "yes: free"), and the names asked, in order.
    final class Host: @unchecked Sendable {
        var answers: [String: String]
        var asked: [String] = []
        init(_ answers: [String: String]) { self.answers = answers }
        var calls: AgentCalls {
            AgentCalls { [self] _, op in
                guard case .capability(let name) = op else { return nil }
                asked.append(name)
                var r = AgentResponse(id: 1, ok: true)
                r.detail = answers[name] ?? "yes: free"
                return r
            }
        }
    }

    static let noNetem = ["netem": "no: sch_netem is not in this kernel (CONFIG_NET_SCH_NETEM is not set)"]
    static let netem = ["netem": "yes: sch_netem is a module (CONFIG_NET_SCH_NETEM=m)"]

    @Test("every effect, filter and engine is read as written")
    func reading() throws {
        let f = try fault(
            "{host: local, device: veth1, to: [198.18.4.0/24, 198.18.5.7], protocol: tcp, port: 5432, direction: both, delay: 40ms, jitter: 4ms, correlation: 25%, distribution: pareto, loss: {percent: 1%, correlation: 50%}, corrupt: 0.1%, reorder: {percent: 5%, correlation: 10%}, rate: {bandwidth: 100mbit, burst: 64kb}, engine: queue}"
        )
        #expect(f.host == "local" && f.device == "veth1" && f.engine == .queue)
        #expect(f.filter.peers == [.network(IPv4Subnet("198.18.4.0/24")!), .network(IPv4Subnet("198.18.5.7/32")!)])
        #expect(f.filter.proto == .tcp && f.filter.port == 5432 && f.filter.direction == .both)
        let s = f.shaping
        #expect(s.delay == 40_000_000 && s.jitter == 4_000_000 && s.correlation == 0.25 && s.distribution == .pareto)
        #expect(s.loss == .random(p: 0.01, correlation: 0.5))
        #expect(s.corrupt == 0.001 && s.reorder == Shaping.Reorder(p: 0.05, correlation: 0.1))
        #expect(s.rate == Shaping.Rate(bitsPerSecond: 100_000_000, burst: 65_536))
        // A rate's burst defaults to 10 ms of traffic, at least 3 kB.
        #expect(try fault("{host: local, device: veth1, rate: 1gbit}").shaping.rate?.burst == 1_250_000)
        #expect(try fault("{host: local, device: veth1, rate: 1mbit}").shaping.rate?.burst == 3_000)
        let ge = try fault("{host: local, device: veth1, loss: {gilbert_elliott: {p: 1%, r: 20%, h: 10%}}}").shaping.loss
        #expect(ge == .gilbertElliott(p: 0.01, r: 0.2, h: 0.1, k: 1))
    }

    @Test("auto: netem where the host has it, the queue engine where not, each choice said with the host's reason")
    func auto() throws {
        let f = try fault("{host: local, device: veth1, delay: 50ms}")
        let without = NetworkDriver().preflight(f, Host(Self.noNetem).calls)
        #expect(without.problem == nil && without.spec.engine == .queue)
        #expect(without.note == "engine queue on local: sch_netem is not in this kernel (CONFIG_NET_SCH_NETEM is not set)")
        let with = NetworkDriver().preflight(f, Host(Self.netem).calls)
        #expect(with.spec.engine == .netem && with.note == "engine netem on local: sch_netem is a module (CONFIG_NET_SCH_NETEM=m)")
        // Gilbert–Elliott loss cannot be set through libnl: the queue engine takes it even with netem.
        let ge = try fault("{host: local, device: veth1, loss: {gilbert_elliott: {p: 1%}}}")
        #expect(NetworkDriver().preflight(ge, Host(Self.netem).calls).spec.engine == .queue)
    }

    @Test("refusals before injection: netem without sch_netem, duplication without netem, a device that is not there")
    func refusals() throws {
        let netem = NetworkDriver().preflight(
            try fault("{host: local, device: veth1, delay: 50ms, engine: netem}"), Host(Self.noNetem).calls)
        #expect(
            netem.problem
                == "engine netem on 'local': sch_netem is not in this kernel (CONFIG_NET_SCH_NETEM is not set); use engine queue (or auto)")
        let dup = NetworkDriver().preflight(try fault("{host: local, device: veth1, duplicate: 1%}"), Host(Self.noNetem).calls)
        #expect(dup.problem?.hasPrefix("on 'local' only the queue engine can run (sch_netem is not in this kernel") == true)
        #expect(dup.problem?.hasSuffix("which cannot duplicate packets (an NFQUEUE verdict passes or drops one packet)") == true)
        var answers = Self.noNetem
        answers["device veth1"] = "no: this host has no device 'veth1'"
        let missing = NetworkDriver().preflight(try fault("{host: local, device: veth1, delay: 50ms}"), Host(answers).calls)
        #expect(missing.problem == "on 'local': this host has no device 'veth1'")
        let silent = NetworkDriver().preflight(try fault("{host: local, device: veth1, delay: 50ms}"), AgentCalls { _, _ in nil })
        #expect(silent.problem == "could not ask host 'local' whether it has sch_netem")
    }

    @Test("the device's qdiscs are asked about only where the engine would add one: the root for egress, the ingress for an IFB")
    func qdiscQuestions() throws {
        let cases: [(String, [String: String], [String])] = [
            // The queue engine's delay alone adds no qdisc.
            ("{host: local, device: veth1, delay: 50ms}", Self.noNetem, ["netem", "device veth1"]),
            ("{host: local, device: veth1, rate: 10mbit}", Self.noNetem, ["netem", "device veth1", "root veth1"]),
            ("{host: local, device: veth1, direction: ingress, rate: 10mbit}", Self.noNetem, ["netem", "device veth1", "ingress veth1"]),
            ("{host: local, device: veth1, direction: ingress, delay: 50ms}", Self.noNetem, ["netem", "device veth1"]),
            (
                "{host: local, device: veth1, direction: both, delay: 50ms}", Self.netem,
                ["netem", "device veth1", "root veth1", "ingress veth1"]
            ),
        ]
        for (yaml, answers, expected) in cases {
            let host = Host(answers)
            let p = NetworkDriver().preflight(try fault(yaml), host.calls)
            #expect(p.problem == nil, "\(yaml)")
            #expect(host.asked == expected, "\(yaml)")
        }
        var answers = Self.noNetem
        answers["root veth1"] = "no: veth1 has a root qdisc faultline did not add (tbf 7:0)"
        let p = NetworkDriver().preflight(try fault("{host: local, device: veth1, rate: 10mbit}"), Host(answers).calls)
        #expect(p.problem == "on 'local': veth1 has a root qdisc faultline did not add (tbf 7:0)")
    }

    @Test("the agent's own answers: an unknown capability is an error, a device that is not there is said")
    func agentAnswers() {
        #expect(HostCapability.answer("teleport") == nil)
        #expect(HostCapability.answer("device nosuchdev0") == "no: this host has no device 'nosuchdev0'")
        #expect(HostCapability.answer("device lo") == "yes: lo exists")
        #expect(HostCapability.answer("netem")?.contains("CONFIG_NET_SCH_NETEM") == true)
    }
}
