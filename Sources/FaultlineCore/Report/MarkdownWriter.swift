import Foundation

/// Renders a journal as the human summary read at a game-day review.
public enum MarkdownWriter {
    public static func render(_ j: Journal) -> String {
        var out = "# \(text(j.experiment.title))\n\n"
        if let d = j.experiment.description { out += text(d) + "\n\n" }
        out += "**Verdict: \(j.verdict.rawValue.uppercased())** (exit \(j.exitCode))\n\n"
        for r in j.reasons { out += "- \(text(r))\n" }
        if !j.reasons.isEmpty { out += "\n" }
        out += "| | |\n|---|---|\n"
        out += "| run | \(cell(j.runId)) |\n| file | \(cell(j.experiment.file)) |\n| started | \(cell(j.startedAt)) |\n"
        out += "| duration | \(DurationText.format(j.durationNs)) |\n"
        if !j.experiment.tags.isEmpty { out += "| tags | \(cell(j.experiment.tags.joined(separator: ", "))) |\n" }
        out += stopped(j)
        out += "\n## Checks\n\n"
        if j.checks.isEmpty { out += "No checks were judged.\n" }
        if !j.checks.isEmpty {
            out += "| check | result | expected | measured | evidence |\n|---|---|---|---|---|\n"
            for c in j.checks {
                out +=
                    "| \(cell(c.name)) | \(c.passed ? "pass" : "**FAIL**") | \(cell(c.expected)) | \(cell(c.measured)) | \(cell(c.evidence ?? "")) |\n"
            }
        }
        out += faults(j) + probes(j) + stalls(j) + workload(j) + actions(j)
        out += "\n## Residue\n\n"
        out += j.residue.isEmpty ? "None: every injected fault was reverted and verified.\n" : j.residue.map { "- \(text($0))\n" }.joined()
        out += "\n## Timeline\n\n"
        for e in j.events { out += "- +\(DurationText.format(e.at)) \(text(e.what))\(e.detail.map { ": \(text($0))" } ?? "")\n" }
        return out
    }

    static func faults(_ j: Journal) -> String {
        guard !j.faults.isEmpty else { return "" }
        var out =
            "\n## Faults\n\n| fault | kind | host | target | scheduled | injected | late by | confirmed | reverted | detail |\n|---|---|---|---|---|---|---|---|---|---|\n"
        for f in j.faults {
            let within = f.clockUncertainty.map { " ± \(DurationText.format(max($0, 1_000)))" } ?? ""
            let confirmed = f.confirmed ? "yes" + (f.confirmedAt.map { " (+\(DurationText.format($0))\(within))" } ?? "") : "**no**"
            // From its instant to the first host's injection: what "at" cost, on one clock.
            let late = f.injectedAt.map { DurationText.format(max(0, $0 - f.scheduledAt)) + within } ?? "-"
            out +=
                "| \(cell(f.name)) | \(cell(f.kind)) | \(cell(f.host)) | \(cell(f.target)) | \(at(f.scheduledAt)) | \(at(f.injectedAt)) | \(late) | \(confirmed) | \(at(f.revertedAt)) | \(cell(f.error ?? f.detail ?? "")) |\n"
        }
        // What was chosen, how the effect was confirmed, and what the host measured: asked against got.
        let notes = j.faults.filter { $0.preflight != nil || $0.confirmation != nil || $0.measured != nil }
        if !notes.isEmpty { out += "\n" }
        for f in notes {
            let parts = [
                f.preflight.map { "chosen: \(text($0))" }, f.confirmation.map { "confirmed by: \(text($0))" },
                f.measured.map { "measured: \(text($0))" },
            ].compactMap { $0 }
            out += "- **\(text(f.name))** — \(parts.joined(separator: "; "))\n"
        }
        return out
    }

    static func probes(_ j: Journal) -> String {
        guard !j.probes.isEmpty else { return "" }
        var out =
            "\n## Probes\n\n| probe | kind | interval | samples | ok | median latency | first failures |\n|---|---|---|---|---|---|---|\n"
        for p in j.probes {
            let ok = p.ok.filter { $0 }.count
            let median = p.latency.isEmpty ? "-" : DurationText.format(p.latency.sorted()[p.latency.count / 2])
            let failures = p.failures.prefix(3).map { "\($0.reason) ×\($0.count)" }.joined(separator: "; ")
            out +=
                "| \(cell(p.probe)) | \(cell(p.kind)) | \(p.interval.map(DurationText.format) ?? "-") | \(p.count) | \(ok) | \(median) | \(cell(failures)) |\n"
        }
        for p in j.probes {
            guard let values = p.values?.compactMap({ $0 }).sorted(), !values.isEmpty else { continue }
            let g = { (v: Double) in String(format: "%.3g", v) }
            out +=
                "\n\(text(p.probe)) recorded \(values.count) values: median \(g(values[values.count / 2])), min \(g(values[0])), max \(g(values[values.count - 1]))\n"
        }
        return out
    }

    /// What stopped the run early, what it measured, and how fast the brake acted.
    static func stopped(_ j: Journal) -> String {
        guard let s = j.stop else { return "" }
        var out = "\n## Stopped\n\n"
        out += "| | |\n|---|---|\n"
        out += "| condition | \(cell(s.condition)) |\n| measured | \(cell(s.measured)) |\n| at | +\(DurationText.format(s.at)) |\n"
        if !s.samples.isEmpty {
            out += "| failed samples | \(s.samples.map { "+" + DurationText.format($0) }.joined(separator: ", ")) |\n"
        }
        out += "| faults held | \(s.faults) |\n"
        out +=
            "| every fault reverted | \(s.revertedAt.map { "+" + DurationText.format($0) } ?? "no") (\(s.reactionNs.map(DurationText.format) ?? "-") after the stop) |\n"
        return out
    }

    /// When the runner itself did not run: its measurements then say little about the target.
    static func stalls(_ j: Journal) -> String {
        guard let stalls = j.stalls, !stalls.isEmpty else { return "" }
        let total = stalls.reduce(Nanos(0)) { $0 + $1.durationNs }
        var out = "\n## Runner stalls\n\n"
        out +=
            "The runner did not run \(stalls.count) time\(stalls.count == 1 ? "" : "s") for more than \(DurationText.format(RunnerStall.threshold)) (\(DurationText.format(total)) in all); a probe sample that failed across one is left out of availability.\n\n"
        for s in stalls.sorted(by: { $0.durationNs > $1.durationNs }).prefix(5) {
            out += "- +\(DurationText.format(s.at)) for \(DurationText.format(s.durationNs))\n"
        }
        return out
    }

    static func workload(_ j: Journal) -> String {
        guard let w = j.workload else { return "" }
        var out = "\n## Workload\n\n"
        let total = w.operations.map { "\($0) operations: " } ?? ""
        out += "\(total)\(w.acknowledged) writes acknowledged, \(w.unknown) unknown, \(w.failed) failed.\n"
        if let by = w.acknowledgedBy, !by.isEmpty {
            out += "\n| answered by | acknowledged |\n|---|---|\n"
            for (e, n) in by.sorted(by: { $0.key < $1.key }) { out += "| \(cell(e)) | \(n) |\n" }
        }
        if !w.finalCounts.isEmpty || w.unreadReplicas != nil {
            out += "\nFinal read (primary: \(w.finalPrimary.map(cell) ?? "none answered")):\n\n| replica | values |\n|---|---|\n"
            for (e, n) in w.finalCounts.sorted(by: { $0.key < $1.key }) { out += "| \(cell(e)) | \(n) |\n" }
            for e in w.unreadReplicas ?? [] { out += "| \(cell(e)) | **not readable** |\n" }
        }
        if w.lostCount > 0 {
            out += "\n**\(w.lostCount) acknowledged writes lost**, RPO \(DurationText.format(w.rpoNs)). "
            out += "The first \(w.lost.count):\n\n| value | acknowledged by | at (from the run's start) |\n|---|---|---|\n"
            for l in w.lost.prefix(20) { out += "| \(cell(l.value)) | \(cell(l.endpoint)) | +\(DurationText.format(l.ackedAt)) |\n" }
            if w.lost.count > 20 { out += "\n(\(w.lost.count - 20) more in journal.json)\n" }
        }
        return out
    }

    static func actions(_ j: Journal) -> String {
        guard !j.actions.isEmpty else { return "" }
        var out = "\n## Actions and rollbacks\n\n| action | command | started | exit | ok |\n|---|---|---|---|---|\n"
        for a in j.actions {
            out +=
                "| \(cell(a.name)) | \(cell(a.command)) | \(at(a.startedAt)) | \(a.exitStatus.map(String.init) ?? "-") | \(a.ok ? "yes" : "**no**") |\n"
        }
        return out
    }

    static func at(_ t: Nanos?) -> String { t.map { "+" + DurationText.format($0) } ?? "-" }

    /// Text from the file or the run, as Markdown that shows it and nothing else: one line (line
    /// breaks become spaces, other control characters escapes), and every character that Markdown
    /// or HTML would act on backslash-escaped — a title cannot add a heading, a table row, a link
    /// or a tag above the real verdict. For text that starts a line (or a list item).
    static func text(_ s: String) -> String {
        var out = cell(s)
        // At a line's start: a heading, a list, a quote or a rule (`#`, `-`, `+`, `=`, `1. `).
        let digits = out.prefix { $0.isASCII && $0.isNumber }
        let rest = out.dropFirst(digits.count)
        let numbered = !digits.isEmpty && rest.first.map { ".)".contains($0) } == true && (rest.dropFirst().first?.isWhitespace ?? true)
        if let first = out.first, "#-+=".contains(first) || numbered {
            out.insert("\\", at: out.startIndex)
        }
        return out
    }

    /// Text inside a table cell or after other text on its line: inline markup escaped
    /// (emphasis, code, links and images — `]` ends them —, HTML and entities, cells, strikethrough).
    static func cell(_ s: String) -> String {
        let oneLine = s.replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
        var out = ""
        for ch in ShownText.controlsEscaped(oneLine) {
            if ch.isASCII, "\\`*_[]<>&|~".contains(ch) { out.append("\\") }
            out.append(ch)
        }
        return out
    }
}
