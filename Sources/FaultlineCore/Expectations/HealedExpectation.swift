import Yams

/// `healed`: what a kill fault took is replaced by a new process (a new pid, or the same pid
/// with a new start time, matching the same selector) within `within` of the kill.
public struct HealedExpectation: ExpectationKindReader, Equatable {
    public static let key = "healed"
    public static let summary = "a killed process is replaced by a new one within a bound (self-healing)"

    public var fault: String
    public var within: Nanos

    public init(fault: String, within: Nanos) {
        self.fault = fault
        self.within = within
    }

    public var name: String { "healed(\(fault))" }
    public var description: String { "what \(fault) killed is replaced by a new process within \(DurationText.format(within))" }
    public var observations: [RunObservation] { [.replacement(fault: fault)] }

    static func read(_ node: Node, path: String, _ c: ExpectationContext) -> HealedExpectation? {
        let r = c.reader
        let e = c.experiment
        guard let f = r.fields(node, path: path, allowed: ["fault", "within"]) else { return nil }
        let within = r.duration(f, "within", required: true)
        let fault = r.string(f, "fault") ?? e.faults.first?.name
        let kinds = FaultKinds.all.filter { $0.replacesProcesses }.map { $0.key }
        let replacing = kinds.map { "'\($0)'" }.joined(separator: " or ")
        if let name = fault, let step = e.faults.first(where: { $0.name == name }) {
            if !type(of: step.spec).replacesProcesses {
                r.error(f.values["fault"] ?? node, "'\(path)' needs a \(replacing) fault; \(shown: name) is a \(step.kind)")
            } else if step.spec.replaceable == nil {
                r.error(
                    f.values["fault"] ?? node,
                    "'\(path)' needs a fault that takes processes; \(shown: name) (\(step.kind)) names none (the limit form with 'process' does)"
                )
            }
        } else {
            let names = e.faults.map(\.name)
            r.error(
                f.values["fault"] ?? node,
                "'\(path).fault' must name a \(kinds.joined(separator: " or ")) fault, got '\(fault ?? "")' \(Suggest.hint(for: fault ?? "", in: names))"
            )
        }
        guard let within, let fault else { return nil }
        return HealedExpectation(fault: fault, within: within)
    }

    /// From the kill's confirmation (or, for a fault that holds, the first poll that missed one
    /// of its processes) to the first new matching process.
    /// Whole milliseconds: polls 20 ms apart measure no finer.
    static func ms(_ n: Nanos) -> String { "\((n + 500_000) / 1_000_000)ms" }

    public func check(_ run: RunEvidence) -> [CheckResult] {
        let expected = "≤ \(DurationText.format(within))"
        guard let f = run.faults.first(where: { $0.name == fault }), f.confirmed, let killed = f.confirmedAt ?? f.injectedAt else {
            return [CheckResult(name: name, passed: false, expected: expected, measured: "fault \(shown: fault) did not take effect")]
        }
        guard let at = f.healedAt else {
            return [
                CheckResult(
                    name: name, passed: false, expected: expected, measured: "not healed",
                    evidence: "no new process matching \(f.target) on \(f.host) during the fault phase")
            ]
        }
        // A held fault's process ended between two polls, and its replacement appeared between
        // two more: the time is a bracket, and the check passes only when all of it is within.
        if let a = f.goneAfter, let b = f.goneAt {
            let low = Swift.max(0, (f.healedAfter ?? b) - b)
            let high = Swift.max(0, at - a)
            return [
                CheckResult(
                    name: name, passed: high <= within, expected: expected,
                    measured: "\(Self.ms(low))–\(Self.ms(high))",
                    evidence:
                        "\(f.detail ?? "limited"); its process ended between +\(DurationText.format(a)) and +\(DurationText.format(b)), and \(f.healedBy ?? "?") replaced it on \(f.host) by +\(DurationText.format(at)) (pid@start time, polled every 20 ms: the bracket)"
                )
            ]
        }
        let took = Swift.max(0, at - killed)
        return [
            CheckResult(
                name: name, passed: took <= within, expected: expected, measured: DurationText.format(took),
                evidence: "\(f.detail ?? "killed"); replaced by \(f.healedBy ?? "?") on \(f.host) (pid@start time, seen every 20 ms)")
        ]
    }
}
