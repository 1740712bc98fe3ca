import FaultlineCore
import Glibc

extension PartitionDriver: FaultDriver {
    public func expand(_ spec: PartitionFault, _ context: ExpansionContext) throws(FaultError) -> [PartitionBlock] {
        let hosts = context.hosts.peerHosts
        let addresses = context.hosts.addresses
        let table = OwnedNames.table(runId: context.runId, faultIndex: context.faultIndex)
        let outage = spec.outageHosts(sets: context.hosts)
        return spec.grudges(among: hosts, sets: context.hosts).sorted { $0.key < $1.key }.map {
            host, peers in
            let reachable = hosts.filter { $0 != host && !peers.contains($0) }
            return PartitionBlock(
                host: host, from: peers.compactMap { addresses[$0] }, reachable: reachable.compactMap { addresses[$0] }, table: table,
                everything: outage.contains(host) ? true : nil)
        }
    }

    /// After every side is reverted, each host must reach the peers it was cut from.
    public func confirmReverted(_ blocks: [PartitionBlock], _ agents: AgentCalls) -> RevertCheck? {
        let problems = blocks.compactMap { b -> String? in
            guard let answer = agents.call(b.host, .reach(addresses: b.from)) else {
                // A host that cannot be asked is not known to be cut still: it is unverified.
                let why = agents.lost(b.host).map { "its agent was lost (\($0))" } ?? "its agent did not answer"
                return "\(b.host): not verified: \(why), so whether it reaches \(b.from.joined(separator: ", ")) again could not be checked"
            }
            let reached = answer.detail ?? ""
            let missing = b.from.filter { !reached.split(separator: ",").map(String.init).contains($0) }
            return missing.isEmpty ? nil : "\(b.host) still cannot reach \(missing.joined(separator: ", "))"
        }
        return RevertCheck(detail: "every host reaches the peers it was cut from", problems: problems)
    }
}
