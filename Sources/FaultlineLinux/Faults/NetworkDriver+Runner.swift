import FaultlineCore
import Glibc

extension NetworkDriver: FaultDriver {
    /// `auto` becomes netem or queue after asking the host; `netem` where the host has none is
    /// refused, naming the module and the kernel option. Then the device: it exists, and the
    /// qdiscs the engine would add (a root for egress, an ingress for an IFB) are not already
    /// someone else's — all before anything of the run is injected.
    public func preflight(_ spec: NetworkFault, _ agents: AgentCalls) -> Preflight<NetworkFault> {
        func ask(_ what: String) -> (yes: Bool, why: String)? {
            guard let answer = agents.call(spec.host, .capability(what))?.detail else { return nil }
            return (answer.hasPrefix("yes"), String(answer.drop { $0 != ":" }.dropFirst().drop { $0 == " " }))
        }
        guard let (has, why) = ask("netem") else {
            return Preflight(spec: spec, problem: "could not ask host '\(spec.host)' whether it has sch_netem")
        }
        var chosen = choose(spec, netem: has, why: why)
        guard chosen.problem == nil else { return chosen }
        let device = spec.device ?? "eth0"
        let egress = spec.filter.direction != .ingress
        let ingress = spec.filter.direction != .egress
        var checks = ["device \(device)"]
        if egress, chosen.spec.engine == .netem || spec.shaping.rate != nil { checks.append("root \(device)") }
        if ingress, chosen.spec.engine == .netem || spec.shaping.rate != nil { checks.append("ingress \(device)") }
        for check in checks {
            guard let (ok, reason) = ask(check) else {
                return Preflight(spec: spec, problem: "could not ask host '\(spec.host)' about \(device)")
            }
            if !ok {
                chosen.problem = "on '\(spec.host)': \(reason)"
                return chosen
            }
        }
        return chosen
    }

    /// The engine for a host that has sch_netem or not (`why` says which).
    func choose(_ spec: NetworkFault, netem has: Bool, why: String) -> Preflight<NetworkFault> {
        // libnl cannot set netem's Gilbert–Elliott parameters: the delay line can.
        var netemCannot: String?
        if case .gilbertElliott? = spec.shaping.loss { netemCannot = "cannot set Gilbert–Elliott loss through libnl" }
        var s = spec
        switch spec.engine {
        case .netem where !has:
            return Preflight(spec: spec, problem: "engine netem on '\(spec.host)': \(why); use engine queue (or auto)")
        case .netem where netemCannot != nil:
            return Preflight(spec: spec, problem: "engine netem \(netemCannot ?? ""); use engine queue (or auto)")
        case .auto:
            s.engine = has && netemCannot == nil ? .netem : .queue
            if s.engine == .queue, let unsupported = s.shaping.unsupportedByQueue {
                return Preflight(spec: spec, problem: "on '\(spec.host)' only the queue engine can run (\(why)), which \(unsupported)")
            }
        default: break
        }
        return Preflight(spec: s, note: "engine \(s.engine.rawValue) on \(spec.host): \(why)")
    }

    public func expand(_ spec: NetworkFault, _ context: ExpansionContext) throws(FaultError) -> [NetworkWork] {
        var peers: [IPv4Subnet] = []
        for p in spec.filter.peers {
            switch p {
            case .network(let n): peers.append(n)
            case .host(let name):
                // A lab host, or `region:NAME`: every host of the region.
                for h in context.hosts.members(name) ?? [] {
                    guard let a = context.hosts.addresses[h], let n = IPv4Subnet("\(a)/32") else {
                        throw FaultError.target("no address for host '\(h)'")
                    }
                    peers.append(n)
                }
            }
        }
        var hash = SplitMix(OwnedNames.hash("\(context.runId)-\(context.faultIndex)"))
        let engine: NetworkFault.Engine = spec.engine == .auto ? .queue : spec.engine
        return [
            NetworkWork(
                host: spec.host, device: spec.device ?? "eth0", peers: peers, filter: spec.filter, shaping: spec.shaping, engine: engine,
                table: OwnedNames.table(runId: context.runId, faultIndex: context.faultIndex),
                ifb: "flifb\(String(hash.next() % 0xFFFF_FF, radix: 16))", queueBase: UInt16(1_000 + hash.next() % 60_000),
                seed: hash.next())
        ]
    }
}
