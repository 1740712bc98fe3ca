import FaultlineCore

/// What the processes of a plan's faults match on this machine now: shown under each fault by
/// `plan` and `run --dry-run`, so a selector that takes more than meant is seen before it runs.
public enum MatchesNow {
    /// A note for each fault that acts on processes of a host of this machine.
    public static func notes(_ e: Experiment) -> (FaultStep) -> String? {
        let local = Set(e.hosts.filter { $0.transport == .local }.map(\.name))
        return { step in
            guard let target = step.spec.processes else { return nil }
            if target.role != nil { return "its host is resolved when the fault fires" }
            guard local.contains(target.host) else { return "on lab host \(target.host): matched when the fault fires" }
            let found: [ProcessRef]
            do throws(FaultError) {
                found = try ProcessResolver.matches(target.selector)
            } catch {
                return "matches nothing here now: \(error)"
            }
            guard !found.isEmpty else { return "matches no process here now" }
            let shown = found.prefix(5).map { "\($0.pid) \($0.name)" }.joined(separator: ", ")
            let more = found.count > 5 ? ", … \(found.count - 5) more" : ""
            return "matches \(found.count) process(es) here now: \(shown)\(more)"
        }
    }
}
