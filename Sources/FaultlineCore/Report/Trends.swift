/// Runs of the same experiment side by side: each run's verdict and figures, and what the
/// newest run changed — a check that newly fails, a figure beyond the range of the runs before
/// it, a check that is new or resolved. Pure: `faultline history` reads the journals.
public struct Trends: Sendable {
    /// One run, as the trend needs it.
    public struct Run: Sendable, Equatable {
        public var runId: String
        public var startedAt: String
        public var verdict: Verdict
        public var checks: [CheckResult]

        public init(_ j: Journal) {
            runId = j.runId
            startedAt = j.startedAt
            verdict = j.verdict
            checks = j.checks
        }
    }

    /// What the newest run changed, against the runs before it.
    public struct Change: Sendable, Equatable {
        public enum Kind: String, Sendable {
            /// Passed in the previous run, fails now.
            case newlyFails = "newly fails"
            /// A figure outside (worse than) every earlier run's.
            case beyondRange = "beyond the previous runs' range"
            /// Failed in the previous run, passes now.
            case resolved
            /// Not checked in the previous run.
            case new
            /// Checked in the previous run, not in this one.
            case gone
        }
        public var kind: Kind
        public var check: String
        public var detail: String
        /// A regression: CI should act on it.
        public var regression: Bool { kind == .newlyFails || kind == .beyondRange }
    }

    /// One experiment's runs, oldest first.
    public struct Series: Sendable {
        public var title: String
        public var file: String
        public var runs: [Run]
        /// The checks' names in the order they were first seen.
        public var checkNames: [String]
        public var changes: [Change]
    }

    public var series: [Series]

    /// Groups runs by experiment (title and file), oldest first within each, and compares the
    /// newest with those before it.
    public init(_ journals: [Journal]) {
        var order: [String] = []
        var groups: [String: (String, String, [Run])] = [:]
        for j in journals {
            let key = "\(j.experiment.title)\u{0}\(j.experiment.file)"
            if groups[key] == nil {
                order.append(key)
                groups[key] = (j.experiment.title, j.experiment.file, [])
            }
            groups[key]!.2.append(Run(j))
        }
        series = order.map { key in
            let (title, file, unsorted) = groups[key]!
            let runs = unsorted.sorted { ($0.startedAt, $0.runId) < ($1.startedAt, $1.runId) }
            var names: [String] = []
            for r in runs { for c in r.checks where !names.contains(c.name) { names.append(c.name) } }
            return Series(title: title, file: file, runs: runs, checkNames: names, changes: Self.changes(runs))
        }
    }

    public var regressions: [Change] { series.flatMap { $0.changes.filter(\.regression) } }

    /// The newest run against the ones before it.
    static func changes(_ runs: [Run]) -> [Change] {
        guard runs.count >= 2, let last = runs.last else { return [] }
        let previous = runs[runs.count - 2]
        let earlier = runs.dropLast()
        var out: [Change] = []
        for c in last.checks {
            guard let before = previous.checks.first(where: { $0.name == c.name }) else {
                out.append(Change(kind: .new, check: c.name, detail: "\(c.passed ? "passes" : "fails"): \(c.measured)"))
                continue
            }
            if before.passed && !c.passed {
                out.append(
                    Change(
                        kind: .newlyFails, check: c.name, detail: "measured \(c.measured), expected \(c.expected) (was \(before.measured))")
                )
            } else if !before.passed && c.passed {
                out.append(Change(kind: .resolved, check: c.name, detail: "measured \(c.measured) (was \(before.measured))"))
            }
            // A figure with a maximum (or, for a duration, any figure: longer is worse) beyond
            // every earlier run's is a regression even while it passes.
            guard let v = c.value, worseIsHigher(c) else { continue }
            let past = earlier.compactMap { r in r.checks.first { $0.name == c.name }?.value }.filter { $0.unit == v.unit }
            guard past.count >= 2, let high = past.map(\.value).max(), let low = past.map(\.value).min() else { continue }
            // Beyond the range by more than the brackets' width: sampling alone cannot explain it.
            let slack = max(
                v.upper.flatMap { u in v.lower.map { u - $0 } } ?? 0,
                past.compactMap { p in p.upper.flatMap { u in p.lower.map { u - $0 } } }.max() ?? 0)
            if v.value > high + slack {
                out.append(
                    Change(
                        kind: .beyondRange, check: c.name,
                        detail:
                            "\(Self.format(v)) against \(Self.format(low, v.unit)) – \(Self.format(high, v.unit)) over the \(past.count) runs before"
                    ))
            }
        }
        for c in previous.checks where !last.checks.contains(where: { $0.name == c.name }) {
            out.append(Change(kind: .gone, check: c.name, detail: "checked in \(previous.runId), not in \(last.runId)"))
        }
        return out
    }

    /// Whether a higher figure is worse: durations and counts against a maximum.
    static func worseIsHigher(_ c: CheckResult) -> Bool {
        c.value?.unit == "s" || c.expected.hasPrefix("≤") || c.expected.hasPrefix("at most")
    }

    static func format(_ q: Quantity) -> String { format(q.value, q.unit) }

    static func format(_ v: Double, _ unit: String) -> String {
        unit == "s" ? DurationText.format(Nanos((v * 1e9).rounded())) : "\(v) \(unit)"
    }

    /// What a terminal shows: per experiment, one line per run and the changes of the newest.
    public func text() -> String {
        var out = ""
        for s in series {
            out += "\(s.title) (\(s.file)): \(s.runs.count) run\(s.runs.count == 1 ? "" : "s")\n"
            for r in s.runs {
                let figures = s.checkNames.prefix(4).compactMap { name -> String? in
                    guard let c = r.checks.first(where: { $0.name == name }) else { return nil }
                    return "\(Self.short(name)) \(c.measured)\(c.passed ? "" : " ✗")"
                }
                out +=
                    "  \(r.startedAt)  \(r.runId)  \(r.verdict.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0))  \(figures.joined(separator: " · "))\n"
            }
            if s.runs.count >= 2 {
                if s.changes.isEmpty { out += "  newest run: no change against the runs before it\n" }
                for c in s.changes {
                    out += "  \(c.regression ? "REGRESSION" : "change"): \(c.check) \(c.kind.rawValue): \(c.detail)\n"
                }
            }
        }
        return out
    }

    /// A check's name without its arguments, for a narrow column.
    static func short(_ name: String) -> String {
        name.count <= 40 ? name : String(name.prefix(39)) + "…"
    }

    /// The same as a self-contained page (no script, no request), a table per experiment with
    /// every check's figure per run and the newest run's changes.
    public func html() -> String {
        let h = HTMLText.escaped
        var out = """
            <!doctype html><html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
            <meta name="viewport" content="width=device-width, initial-scale=1"><title>faultline history</title>
            <style>body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#111}table{border-collapse:collapse;margin:.5em 0 1.5em}
            td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}th{background:#f3f3f3}
            .fail{background:#fbe3e3}.pass{background:#e6f4e6}.regression{color:#a40000;font-weight:bold}
            .wrap{overflow-x:auto}</style></head><body><h1>faultline history</h1>
            """
        let total = regressions.count
        out +=
            "<p id=\"summary\">\(series.count) experiment\(series.count == 1 ? "" : "s"), \(series.map(\.runs.count).reduce(0, +)) runs; "
            + (total == 0
                ? "no regression in the newest runs.</p>"
                : "<b class=\"regression\">\(total) regression\(total == 1 ? "" : "s")</b> in the newest runs.</p>")
        for s in series {
            out += "<section class=\"experiment\"><h2>\(h(s.title))</h2><p><code>\(h(s.file))</code></p>"
            if !s.changes.isEmpty {
                out += "<ul class=\"changes\">"
                for c in s.changes {
                    out +=
                        "<li class=\"\(c.regression ? "regression" : "change")\">\(c.regression ? "Regression: " : "")\(h(c.check)) \(h(c.kind.rawValue)): \(h(c.detail))</li>"
                }
                out += "</ul>"
            }
            out += "<div class=\"wrap\"><table><tr><th>run</th><th>started</th><th>verdict</th>"
            for n in s.checkNames { out += "<th>\(h(n))</th>" }
            out += "</tr>"
            for r in s.runs {
                out +=
                    "<tr><td>\(h(r.runId))</td><td>\(h(r.startedAt))</td><td class=\"\(r.verdict == .passed ? "pass" : "fail")\">\(h(r.verdict.rawValue))</td>"
                for n in s.checkNames {
                    if let c = r.checks.first(where: { $0.name == n }) {
                        out += "<td class=\"\(c.passed ? "pass" : "fail")\">\(h(c.measured))</td>"
                    } else {
                        out += "<td>-</td>"
                    }
                }
                out += "</tr>"
            }
            out += "</table></div></section>"
        }
        return out + "</body></html>\n"
    }
}
