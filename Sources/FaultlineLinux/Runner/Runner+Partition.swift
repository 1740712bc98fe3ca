import FaultlineCore
import Foundation

extension Runner {
    /// Lab host names, and their addresses.
    var labAddresses: [String: String] {
        Dictionary(uniqueKeysWithValues: (experiment.lab?.hosts ?? []).map { ($0.name, $0.address.description) })
    }

    /// The nft table of a fault: named after the run, so it is never confused with another's.
    func nftTable(for f: FaultStep) -> String {
        let index = experiment.faults.firstIndex(of: f) ?? 0
        return "faultline_\(options.runId.replacingOccurrences(of: "-", with: "_"))_\(index)"
    }

    /// Each host with a grudge gets its part of the cut from its own agent, all at once.
    func injectPartition(_ f: FaultStep, _ p: PartitionSpec, scheduled: Nanos) {
        let hosts = experiment.hosts.filter { $0.transport == .lab }.map(\.name)
        let grudges = p.grudges(among: hosts)
        let addresses = labAddresses
        var record = FaultRecord(
            name: f.name, kind: "partition", host: grudges.keys.sorted().joined(separator: ","), target: target(of: f.spec),
            scheduledAt: phaseStart - origin + scheduled)
        let index = journal.faults.count
        journal.faults.append(record)
        held.append(Held(step: f, record: index, hosts: grudges.keys.sorted()))
        let end = f.duration.map { f.at + $0 } ?? experiment.duration
        let ttl = end - f.at + experiment.settings.confirmTimeout + 5_000_000_000
        let table = nftTable(for: f)
        let jobs = grudges.sorted { $0.key < $1.key }
        let results = Locked([String: Result<AgentResponse, AgentError>]())
        let agents = self.agents
        let confirmTimeout = experiment.settings.confirmTimeout
        // One thread per host: the calls wait on pipes, so core count must not bound the fan-out.
        Parallel.run(jobs.count) { i in
            let (host, peers) = jobs[i]
            let reachable = hosts.filter { $0 != host && !peers.contains($0) }
            let spec = BlockSpec(
                host: host, from: peers.compactMap { addresses[$0] }, reachable: reachable.compactMap { addresses[$0] }, table: table)
            let result: Result<AgentResponse, AgentError>
            if let agent = agents[host] {
                result = Result { () throws(AgentError) in
                    try agent.call(
                        .inject(name: f.name, fault: .block(spec), ttlNs: ttl, confirmTimeoutNs: confirmTimeout),
                        timeout: confirmTimeout + 10_000_000_000)
                }
            } else {
                result = .failure(AgentError.failed(host, "no agent"))
            }
            results.mutate { $0[host] = result }
        }
        var problems: [String] = []
        var details: [String] = []
        var confirmedAll = true
        for (host, result) in results.value.sorted(by: { $0.key < $1.key }) {
            switch result {
            case .success(let r):
                if let t = r.injectedAt { record.injectedAt = min(record.injectedAt ?? .max, t - origin) }
                if let t = r.confirmedAt { record.confirmedAt = max(record.confirmedAt ?? 0, t - origin) }
                details.append("\(host): \(r.detail ?? "")")
                if !r.ok || r.injectedAt == nil { problems.append("\(host): \(r.error ?? "inject failed")") }
                if r.confirmed != true {
                    confirmedAll = false
                    problems.append("\(host): \(r.error ?? "not confirmed")")
                }
            case .failure(let e):
                confirmedAll = false
                problems.append("\(e)")
            }
        }
        record.confirmed = confirmedAll && problems.isEmpty
        if !record.confirmed { record.confirmedAt = nil }
        record.detail = details.joined(separator: "; ")
        record.error = problems.isEmpty ? nil : problems.joined(separator: "; ")
        journal.faults[index] = record
        event(
            "inject \(f.name)",
            grudges.sorted { $0.key < $1.key }.map { "\($0.key) drops \($0.value.joined(separator: ","))" }.joined(separator: "; "))
        if record.confirmed {
            event("confirmed \(f.name)", "after \(DurationText.format((record.confirmedAt ?? 0) - (record.injectedAt ?? 0)))")
        } else {
            invalidReasons.append("fault '\(f.name)' did not take effect: \(record.error ?? "not confirmed")")
            event("NOT confirmed \(f.name)", record.error)
        }
    }

    /// After every side is reverted, each host must reach the peers it was cut from.
    func confirmHealed(_ f: FaultStep, _ p: PartitionSpec) {
        let hosts = experiment.hosts.filter { $0.transport == .lab }.map(\.name)
        let addresses = labAddresses
        var unhealed: [String] = []
        for (host, peers) in p.grudges(among: hosts).sorted(by: { $0.key < $1.key }) {
            let wanted = peers.compactMap { addresses[$0] }
            let reached = (try? agents[host]?.call(.reach(addresses: wanted), timeout: 10_000_000_000))?.detail ?? ""
            let missing = wanted.filter { !reached.split(separator: ",").map(String.init).contains($0) }
            if !missing.isEmpty { unhealed.append("\(host) still cannot reach \(missing.joined(separator: ", "))") }
        }
        if unhealed.isEmpty {
            event("healed \(f.name)", "every host reaches the peers it was cut from")
        } else {
            journal.residue += unhealed.map { "\(f.name): \($0)" }
            event("NOT healed \(f.name)", unhealed.joined(separator: "; "))
        }
    }
}

/// Runs work items on one thread each and waits for all: for work that waits (on pipes, on
/// the network) rather than computes, where a core-sized pool would serialise it.
enum Parallel {
    static func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            Thread {
                body(i)
                group.leave()
            }.start()
        }
        group.wait()
    }
}

/// A value behind a lock, for results gathered from concurrent work.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
    func mutate(_ body: (inout Value) -> Void) {
        lock.lock()
        body(&stored)
        lock.unlock()
    }
}
