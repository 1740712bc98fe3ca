/// Renders a journal as `report.html`: one self-contained page (inline CSS and SVG, no script,
/// and a content security policy that forbids every fetch) that opens from a `file:` URL,
/// prints, and reads on a phone. The verdict first, then each check with expected against
/// measured, the timeline (`TimelineChart`), the evidence, and the tables every report has.
/// Every instant is from the run's start, and the page says so once, at the top.
public enum HTMLWriter {
    public static func render(_ j: Journal) -> String {
        let h = HTMLText.escaped
        let passed = j.checks.filter(\.passed).count
        var out = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        out += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        out += "<title>\(h(j.verdict.rawValue.uppercased())): \(h(j.experiment.title))</title><style>\(css)</style></head><body>\n"
        out += "<header class=\"verdict \(j.verdict.rawValue)\" id=\"verdict\"><h1>\(h(j.experiment.title))</h1>"
        out += "<p class=\"v\">\(h(j.verdict.rawValue.uppercased()))</p>"
        out +=
            "<p>exit \(j.exitCode) · \(passed) of \(j.checks.count) checks passed · \(j.faults.count) fault\(j.faults.count == 1 ? "" : "s")</p>"
        if !j.reasons.isEmpty { out += "<ul>" + j.reasons.map { "<li>\(h($0))</li>" }.joined() + "</ul>" }
        out += "</header>\n"
        if let d = j.experiment.description { out += "<p class=\"description\">\(h(d))</p>\n" }
        out += "<section id=\"run\"><table class=\"kv\">"
        out += row("run", j.runId) + row("file", j.experiment.file) + row("started", j.startedAt)
        out += row("duration", DurationText.format(j.durationNs))
        if !j.experiment.tags.isEmpty { out += row("tags", j.experiment.tags.joined(separator: ", ")) }
        out += "</table><p class=\"clock\">\(clock(j))</p></section>\n"
        out += checks(j) + timeline(j) + evidence(j) + faults(j) + probes(j) + workload(j) + actions(j) + events(j)
        out += "<footer>faultline \(h(FaultlineVersion.text)) · journal schema \(h(j.schema))</footer>\n</body></html>\n"
        return out
    }

    /// Said once: the origin of every instant on the page.
    static func clock(_ j: Journal) -> String {
        "Every time on this page is from the run's start (\(HTMLText.escaped(j.startedAt)), on the runner's monotonic clock: +2s is two seconds after it. "
            + "An instant read on another machine carries its ± uncertainty."
    }

    static func row(_ key: String, _ value: String) -> String {
        "<tr><th>\(HTMLText.escaped(key))</th><td>\(HTMLText.escaped(value))</td></tr>"
    }

    static func table(_ headers: [String], _ rows: [[String]], cls: String = "") -> String {
        var out = "<div class=\"scroll\"><table\(cls.isEmpty ? "" : " class=\"\(cls)\"")><thead><tr>"
        out += headers.map { "<th>\(HTMLText.escaped($0))</th>" }.joined() + "</tr></thead><tbody>"
        for r in rows { out += "<tr>" + r.map { "<td>\($0)</td>" }.joined() + "</tr>" }
        return out + "</tbody></table></div>"
    }

    static func at(_ t: Nanos?) -> String { t.map { "+" + DurationText.format($0) } ?? "-" }

    static func checks(_ j: Journal) -> String {
        let h = HTMLText.escaped
        var out = "<section id=\"checks\"><h2>Checks</h2>"
        if j.checks.isEmpty { return out + "<p>No checks were judged.</p></section>\n" }
        out += table(
            ["check", "result", "expected", "measured", "evidence"],
            j.checks.map { c in
                [
                    h(c.name), c.passed ? "<span class=\"pass\">pass</span>" : "<span class=\"fail\">FAIL</span>", h(c.expected),
                    h(c.measured), h(c.evidence ?? ""),
                ]
            }, cls: "checks")
        return out + "</section>\n"
    }

    static func timeline(_ j: Journal) -> String {
        var out = "<section id=\"timeline-section\"><h2>Timeline</h2><div class=\"scroll chart\">"
        out += TimelineChart(j: j).render()
        out += "</div><p class=\"legend\"><span class=\"k ok\"></span>samples ok <span class=\"k some-failed\"></span>some failed "
        out +=
            "<span class=\"k failed\"></span>all failed <span class=\"k window\"></span>a fault held <span class=\"k stall\"></span>the runner stalled · "
        out += "latency on a log scale, each pixel column's fastest to slowest sample (failures red); hover for figures.</p></section>\n"
        return out
    }

    /// What a reviewer needs to believe a failed check, a stop or a leftover.
    static func evidence(_ j: Journal) -> String {
        let h = HTMLText.escaped
        var parts = ""
        for c in j.checks where !c.passed {
            parts += "<div class=\"card bad\"><h3>\(h(c.name))</h3><p>expected \(h(c.expected)), measured <b>\(h(c.measured))</b></p>"
            if let e = c.evidence { parts += "<p class=\"ev\">\(h(e))</p>" }
            parts += "</div>"
        }
        if let w = j.workload, w.lostCount > 0 {
            parts +=
                "<h3>\(w.lostCount) acknowledged write\(w.lostCount == 1 ? "" : "s") lost</h3><p>RPO \(DurationText.format(w.rpoNs)); the first \(w.lost.count), with who acknowledged each:</p>"
            let rows = w.lost.map { [h($0.value), h($0.endpoint), at($0.ackedAt)] }
            parts += table(["value written", "acknowledged by", "at"], Array(rows.prefix(10)))
            if rows.count > 10 {
                parts +=
                    "<details><summary>\(rows.count - 10) more</summary>"
                    + table(["value written", "acknowledged by", "at"], Array(rows.dropFirst(10))) + "</details>"
            }
        }
        if let s = j.stop {
            parts += "<h3>Stopped</h3><table class=\"kv\">" + row("condition", s.condition) + row("measured", s.measured)
            parts += row("at", at(s.at)) + row("faults held", String(s.faults))
            parts +=
                row("every fault reverted", "\(at(s.revertedAt)) (\(s.reactionNs.map(DurationText.format) ?? "-") after the stop)")
                + "</table>"
        }
        if let stalls = j.stalls, !stalls.isEmpty {
            parts += "<h3>Runner stalls</h3><p>The runner did not run \(stalls.count) time\(stalls.count == 1 ? "" : "s") for more than "
            parts += "\(DurationText.format(RunnerStall.threshold)); a probe sample that failed across one is left out of availability.</p>"
            parts += table(
                ["at", "for"],
                stalls.sorted { $0.durationNs > $1.durationNs }.prefix(20).map { [at($0.at), DurationText.format($0.durationNs)] })
        }
        parts += "<h3>Residue</h3>"
        parts +=
            j.residue.isEmpty
            ? "<p class=\"pass\">None: every injected fault was reverted and verified.</p>"
            : "<ul class=\"fail\">" + j.residue.map { "<li>\(h($0))</li>" }.joined() + "</ul>"
        return "<section id=\"evidence\"><h2>Evidence</h2>\(parts)</section>\n"
    }

    static func faults(_ j: Journal) -> String {
        guard !j.faults.isEmpty else { return "" }
        let h = HTMLText.escaped
        var out = "<section id=\"faults\"><h2>Faults</h2>"
        out += table(
            ["fault", "kind", "host", "target", "scheduled", "injected", "late by", "confirmed", "reverted", "detail"],
            j.faults.map { f in
                let within = f.clockUncertainty.map { " ± \(DurationText.format(max($0, 1_000)))" } ?? ""
                let late = f.injectedAt.map { DurationText.format(max(0, $0 - f.scheduledAt)) + within } ?? "-"
                let confirmed = f.confirmed ? "yes" + (f.confirmedAt.map { " (+\(DurationText.format($0))\(within))" } ?? "") : "<b>no</b>"
                return [
                    h(f.name), h(f.kind), h(f.host), h(f.target), at(f.scheduledAt), at(f.injectedAt), h(late), confirmed, at(f.revertedAt),
                    h(f.error ?? f.detail ?? ""),
                ]
            })
        let notes = j.faults.filter { $0.preflight != nil || $0.confirmation != nil || $0.measured != nil }
        if !notes.isEmpty {
            out += "<h3>Engines and confirmations</h3>"
            out += table(
                ["fault", "chosen", "confirmed by", "measured"],
                notes.map { [h($0.name), h($0.preflight ?? ""), h($0.confirmation ?? ""), h($0.measured ?? "")] })
        }
        return out + "</section>\n"
    }

    static func probes(_ j: Journal) -> String {
        guard !j.probes.isEmpty else { return "" }
        let h = HTMLText.escaped
        let rows = j.probes.map { p -> [String] in
            let ok = p.ok.lazy.filter { $0 }.count
            let median = p.latency.isEmpty ? "-" : DurationText.format(p.latency.sorted()[p.latency.count / 2])
            let failures = p.failures.prefix(3).map { "\($0.reason) ×\($0.count) (first +\(DurationText.format($0.firstAt)))" }
            return [
                h(p.probe), h(p.kind), p.interval.map(DurationText.format) ?? "-", String(p.count), String(ok), median,
                h(failures.joined(separator: "; ")),
            ]
        }
        return "<section id=\"probes\"><h2>Probes</h2>"
            + table(["probe", "kind", "interval", "samples", "ok", "median latency", "first failures"], rows) + "</section>\n"
    }

    static func workload(_ j: Journal) -> String {
        guard let w = j.workload else { return "" }
        let h = HTMLText.escaped
        var out = "<section id=\"workload\"><h2>Workload</h2><p>"
        out +=
            "\(w.operations.map { "\($0) operations: " } ?? "")\(w.acknowledged) writes acknowledged, \(w.unknown) unknown, \(w.failed) failed.</p>"
        if let by = w.acknowledgedBy, !by.isEmpty {
            out += table(["answered by", "acknowledged"], by.sorted { $0.key < $1.key }.map { [h($0.key), String($0.value)] })
        }
        if !w.finalCounts.isEmpty || w.unreadReplicas != nil {
            out += "<p>Final read (primary: \(w.finalPrimary.map(h) ?? "none answered")):</p>"
            var rows = w.finalCounts.sorted { $0.key < $1.key }.map { [h($0.key), String($0.value)] }
            rows += (w.unreadReplicas ?? []).map { [h($0), "<b>not readable</b>"] }
            out += table(["replica", "values"], rows)
        }
        return out + "</section>\n"
    }

    static func actions(_ j: Journal) -> String {
        guard !j.actions.isEmpty else { return "" }
        let h = HTMLText.escaped
        let rows = j.actions.map { a in
            [h(a.name), "<code>\(h(a.command))</code>", at(a.startedAt), a.exitStatus.map(String.init) ?? "-", a.ok ? "yes" : "<b>no</b>"]
        }
        return "<section id=\"actions\"><h2>Actions and rollbacks</h2>" + table(["action", "command", "started", "exit", "ok"], rows)
            + "</section>\n"
    }

    static func events(_ j: Journal) -> String {
        let h = HTMLText.escaped
        var rows = j.events.map { [at($0.at), h($0.what), h($0.detail ?? "")] }
        if let markers = j.markers {
            rows =
                (j.events.map { ($0.at, [at($0.at), h($0.what), h($0.detail ?? "")]) }
                + markers.map { ($0.at, [at($0.at), "marker " + h($0.name), h("\($0.source): \($0.line)")]) })
                .sorted { $0.0 < $1.0 }.map(\.1)
        }
        return "<details id=\"events\" open><summary>Every event (\(rows.count))</summary>" + table(["at", "what", "detail"], rows)
            + "</details>\n"
    }

    static let css = """
        :root{--ok:#2e7d32;--bad:#c62828;--warn:#ef6c00;--ink:#1b1b1b;--mute:#666;--line:#ddd}
        *{box-sizing:border-box}
        body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--ink);max-width:1240px;margin:0 auto;padding:12px}
        h1{font-size:1.35em;margin:0 0 4px}h2{font-size:1.15em;margin:22px 0 8px;border-bottom:1px solid var(--line)}h3{font-size:1em;margin:14px 0 6px}
        .verdict{border-radius:8px;padding:12px 16px;color:#fff;background:#555}
        .verdict.passed{background:var(--ok)}.verdict.failed{background:var(--bad)}.verdict.aborted{background:var(--warn)}
        .verdict .v{font-size:1.6em;font-weight:700;margin:0;letter-spacing:.04em}.verdict p,.verdict ul{margin:4px 0}
        .scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.92em}
        th,td{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
        thead th{background:#f4f4f4}table.checks td:nth-child(2),table.checks td:nth-child(4){white-space:nowrap}table.kv{width:auto}table.kv th{font-weight:600;padding-right:18px}
        .pass{color:var(--ok);font-weight:600}.fail{color:var(--bad);font-weight:700}
        .card{border-left:4px solid var(--bad);background:#fdf1f1;padding:6px 12px;margin:8px 0}.card p{margin:4px 0}
        .clock{color:var(--mute);font-size:.9em}.description{margin:10px 0}
        .chart svg{min-width:760px;width:100%;height:auto;display:block}
        svg text{font:11px system-ui,"DejaVu Sans",sans-serif;fill:var(--ink)}svg .lane{font-weight:600}svg .note{fill:#333}svg .bad{fill:var(--bad)}
        svg .tick{fill:var(--mute);font-size:10px}svg .axis line{stroke:#e6e6e6}svg .axis text{fill:var(--mute)}
        svg .phase{fill:#b0bec5}svg .fault{opacity:.85}svg .fault.open{stroke:var(--bad);stroke-dasharray:4 2}
        svg .fault-window{opacity:.11}svg .stall{fill:#888;opacity:.3}svg .stop{stroke:var(--bad);stroke-width:2;stroke-dasharray:5 3}
        svg .scheduled{stroke:#000;stroke-width:1.5}svg .confirmed{fill:#fff;stroke:#000;stroke-width:1.5}svg .healed{fill:var(--ok);stroke:#fff}
        svg .marker{stroke:#6a1b9a;stroke-width:1.5}svg .events .marker{stroke:#90a4ae}
        svg .outcomes .ok{fill:var(--ok)}svg .outcomes .some-failed{fill:#e57373}svg .outcomes .failed{fill:var(--bad)}
        svg .panel{fill:#fafafa;stroke:var(--line)}svg .decade{stroke:#e6e6e6}
        svg path.ok{stroke:#1565c0;fill:none;stroke-linecap:square}svg path.failed{stroke:var(--bad);fill:none;stroke-linecap:square}
        .legend{font-size:.85em;color:var(--mute)}.k{display:inline-block;width:12px;height:10px;margin:0 4px 0 10px;vertical-align:middle}
        .k.ok{background:var(--ok)}.k.some-failed{background:#e57373}.k.failed{background:var(--bad)}.k.window{background:#1f77b4;opacity:.3}.k.stall{background:#888;opacity:.5}
        code{font-size:.9em;overflow-wrap:anywhere}footer{color:var(--mute);font-size:.8em;margin:24px 0}
        @media (max-width:640px){body{font-size:14px;padding:6px}th,td{padding:3px 4px}.scroll>table{min-width:600px}}
        @media print{body{max-width:none}.scroll{overflow:visible}.chart svg{min-width:0}.verdict{-webkit-print-color-adjust:exact;print-color-adjust:exact}section{break-inside:avoid-page}}
        """
}
