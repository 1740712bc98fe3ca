import FaultlineCore
import Foundation

extension Runner {
    /// For a fault whose processes an expectation watches for a replacement: its selector, the
    /// matching processes before the injection, and the agent to ask.
    func replacementBaseline(_ step: FaultStep, _ works: [AnyFaultWork]) -> (ProcessSelector, Set<String>, AgentClient)? {
        let watched = experiment.expectations.contains { $0.kind.observations.contains(.replacement(fault: step.name)) }
        guard watched, let selector = step.spec.replaceable, let host = works.first?.host, let agent = agents[host] else { return nil }
        return (selector, HealWatch.find(selector, agent: agent) ?? [], agent)
    }

    /// What the heal watch saw, into the faults' records.
    func recordReplacements() {
        for (name, seen) in heal.stop() {
            guard let i = journal.faults.firstIndex(where: { $0.name == name }) else { continue }
            let at = offset(MonotonicInstant(ns: seen.at))
            journal.faults[i].healedAt = at
            journal.faults[i].healedBy = seen.by
            if let gone = seen.gone {
                journal.faults[i].goneAfter = offset(MonotonicInstant(ns: gone.lastSeen))
                journal.faults[i].goneAt = offset(MonotonicInstant(ns: gone.missed))
                journal.faults[i].healedAfter = seen.before.map { offset(MonotonicInstant(ns: $0)) }
            }
            emit(.replaced(fault: name, by: seen.by, seenAt: at))
        }
    }
}

/// Self-healing: after a fault whose processes an expectation watches (`healed`), the runner asks the host's
/// agent every 20 ms for processes matching the fault's selector, until one appears that was
/// not there before the kill (a new pid, or the same pid with a new start time). For a fault
/// that holds (a memory limit), whose processes end some time after it is injected, the watch
/// also notes when the first of them went missing: the poll before and the poll that missed it.
final class HealWatch: @unchecked Sendable {
    typealias Seen = (at: Int64, by: String, gone: (lastSeen: Int64, missed: Int64)?, before: Int64?)
    private let seen = Locked([String: Seen]())
    private let stopping = Locked(false)
    private let group = DispatchGroup()

    static func find(_ selector: ProcessSelector, agent: AgentClient) -> Set<String>? {
        guard let r = try? agent.call(.find(selector: selector), timeout: 5_000_000_000), r.ok else { return nil }
        return Set((r.detail ?? "").split(separator: ",").map(String.init))
    }

    func watch(_ name: String, _ selector: ProcessSelector, before: Set<String>, agent: AgentClient, since: Int64? = nil) {
        group.enter()
        Thread { [self] in
            defer { group.leave() }
            var lastSeen = since
            var gone: (lastSeen: Int64, missed: Int64)?
            var previous: Int64?
            while !stopping.value {
                let polled = MonotonicClock.now()
                if let now = Self.find(selector, agent: agent) {
                    if let last = lastSeen, gone == nil {
                        if before.isSubset(of: now) { lastSeen = polled } else { gone = (last, polled) }
                    }
                    if let new = now.subtracting(before).sorted().first {
                        let at = MonotonicClock.now()
                        seen.mutate { $0[name] = (at, new, gone, previous) }
                        return
                    }
                }
                previous = polled
                usleep(20_000)
            }
        }.start()
    }

    /// Stops watching; what was seen, by fault name.
    func stop() -> [String: Seen] {
        stopping.mutate { $0 = true }
        group.wait()
        return seen.value
    }
}
