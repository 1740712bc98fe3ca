import FaultlineCore
import Foundation

/// Self-healing: after a kill that a `healed` expectation names, the runner asks the host's
/// agent every 20 ms for processes matching the fault's selector, until one appears that was
/// not there before the kill (a new pid, or the same pid with a new start time).
final class HealWatch: @unchecked Sendable {
    private let seen = Locked([String: (at: Int64, by: String)]())
    private let stopping = Locked(false)
    private let group = DispatchGroup()

    /// The matching processes before the kill, or nil when no `healed` expectation names it.
    static func before(_ step: FaultStep, _ experiment: Experiment, agent: AgentClient) -> Set<String>? {
        guard case .kill(let p) = step.spec,
            experiment.expectations.contains(where: { if case .healed(step.name, _) = $0 { return true } else { return false } })
        else { return nil }
        return find(p.selector, agent: agent) ?? []
    }

    static func find(_ selector: ProcessSelector, agent: AgentClient) -> Set<String>? {
        guard let r = try? agent.call(.find(selector: selector), timeout: 5_000_000_000), r.ok else { return nil }
        return Set((r.detail ?? "").split(separator: ",").map(String.init))
    }

    func watch(_ name: String, _ selector: ProcessSelector, before: Set<String>, agent: AgentClient) {
        group.enter()
        Thread { [self] in
            defer { group.leave() }
            while !stopping.value {
                if let now = Self.find(selector, agent: agent), let new = now.subtracting(before).sorted().first {
                    let at = MonotonicClock.now()
                    seen.mutate { $0[name] = (at, new) }
                    return
                }
                usleep(20_000)
            }
        }.start()
    }

    /// Stops watching; what was seen, by fault name.
    func stop() -> [String: (at: Int64, by: String)] {
        stopping.mutate { $0 = true }
        group.wait()
        return seen.value
    }
}
