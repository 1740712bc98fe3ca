import Foundation

/// The run drawn as one inline SVG on the run's clock: the run's parts, every fault's window
/// (shaded across every lane and labelled with its name, host, engine and lateness), the
/// markers, then each probe's and each workload endpoint's outcomes, and their latencies on a
/// log scale. Samples are folded into one bucket per pixel column with their extremes kept
/// (`SampleBuckets`), so the drawing's size depends on its width, not on the run's length.
struct TimelineChart {
    let j: Journal
    static let width = 1200.0
    static let labelWidth = 210.0
    static let x0 = labelWidth
    static let x1 = width - 14
    static let palette = ["#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]

    /// The span drawn: the whole run (at least 1 ms, so that an empty run still has an axis).
    var span: Range<Nanos> {
        var end = max(j.durationNs, 1_000_000)
        for f in j.faults { end = max(end, f.revertedAt ?? 0, f.confirmedAt ?? 0, f.healedAt ?? 0) }
        return 0..<end
    }

    func x(_ t: Nanos) -> Double {
        let s = span
        let f = Double(min(max(t, s.lowerBound), s.upperBound) - s.lowerBound) / Double(s.upperBound - s.lowerBound)
        return Self.x0 + f * (Self.x1 - Self.x0)
    }

    static func n(_ v: Double) -> String { fixed(v, 1) }

    func render() -> String {
        var body = ""
        var y = 34.0
        let top = y
        // The run's parts.
        for p in j.phases ?? [] {
            body += label(p.name, y: y + 10, cls: "lane")
            body +=
                "<rect class=\"phase\" x=\"\(Self.n(x(p.startAt)))\" y=\"\(Self.n(y + 2))\" width=\"\(Self.n(max(1, x(p.endAt) - x(p.startAt))))\" height=\"10\"><title>\(HTMLText.escaped(p.name)): +\(DurationText.format(p.startAt)) to +\(DurationText.format(p.endAt))</title></rect>"
            y += 16
        }
        // Each fault's own lane.
        var windows = ""
        for (i, f) in j.faults.enumerated() {
            let color = Self.palette[i % Self.palette.count]
            body += label("\(f.name) · \(f.host)", y: y + 13, cls: "lane")
            body += faultLane(f, y: y, color: color, windows: &windows)
            y += 22
        }
        y += markerLanes(y: y, into: &body)
        // Each probe, then each endpoint of the workload.
        for p in j.probes { y += series(p, title: "probe \(p.probe)", y: y, into: &body) }
        if let w = j.workload, let endpoints = w.endpoints, !endpoints.isEmpty {
            for e in endpoints { y += strip(e, title: "workload → \(e.probe)", y: y, into: &body) }
            var all = ProbeSeries(probe: ProbeSeries.workloadName, kind: "workload", interval: nil)
            for e in endpoints {
                all.started += e.started
                all.latency += e.latency
                all.ok += e.ok
            }
            y += latencyPanel(all, title: "workload latency", y: y, into: &body)
        }
        let bottom = y
        // What is shaded over every lane: the faults' windows, the runner's stalls, the stop.
        var shade = ""
        for s in j.stalls ?? [] {
            shade +=
                "<rect class=\"stall\" x=\"\(Self.n(x(s.at)))\" y=\"\(Self.n(top))\" width=\"\(Self.n(max(1, x(s.at + s.durationNs) - x(s.at))))\" height=\"\(Self.n(bottom - top))\"><title>the runner did not run: +\(DurationText.format(s.at)) for \(DurationText.format(s.durationNs))</title></rect>"
        }
        var overlay = windows.replacingOccurrences(of: "%TOP%", with: Self.n(top)).replacingOccurrences(
            of: "%HEIGHT%", with: Self.n(bottom - top))
        if let s = j.stop {
            overlay +=
                "<line class=\"stop\" x1=\"\(Self.n(x(s.at)))\" x2=\"\(Self.n(x(s.at)))\" y1=\"\(Self.n(top - 6))\" y2=\"\(Self.n(bottom))\"><title>stopped at +\(DurationText.format(s.at)): \(HTMLText.escaped(s.condition)): \(HTMLText.escaped(s.measured))</title></line>"
        }
        let height = bottom + 8
        return
            "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Self.n(Self.width)) \(Self.n(height))\" role=\"img\" aria-label=\"the run's timeline\">"
            + "<g class=\"shade\">\(shade)\(overlay)</g>" + axis(top: top, bottom: bottom) + body + "</svg>"
    }

    func label(_ text: String, y: Double, cls: String) -> String {
        let shown = ShownText.escaped(text, limit: 30)
        return
            "<text class=\"\(cls)\" x=\"\(Self.n(Self.x0 - 8))\" y=\"\(Self.n(y))\" text-anchor=\"end\">\(HTMLText.escaped(shown))</text>"
    }

    /// A time axis on top, a grid line at each tick.
    func axis(top: Double, bottom: Double) -> String {
        let s = span
        let length = s.upperBound - s.lowerBound
        var step: Nanos = 1_000
        outer: while true {
            for m in [1, 2, 5] as [Nanos] where length / (step * m) <= 12 {
                step *= m
                break outer
            }
            step *= 10
        }
        var out = "<g class=\"axis\">"
        var t = (s.lowerBound / step) * step
        while t <= s.upperBound {
            let px = Self.n(x(t))
            out += "<line x1=\"\(px)\" x2=\"\(px)\" y1=\"\(Self.n(top - 4))\" y2=\"\(Self.n(bottom))\"/>"
            out += "<text x=\"\(px)\" y=\"\(Self.n(top - 10))\" text-anchor=\"middle\">+\(DurationText.format(t))</text>"
            t += step
        }
        return out + "</g>"
    }

    /// A fault's bar from its injection to its revert (to the run's end when it never was),
    /// a tick at its scheduled instant, a dot when its effect was confirmed and one when it
    /// healed; its window goes to `windows` (shaded over every lane).
    func faultLane(_ f: FaultRecord, y: Double, color: String, windows: inout String) -> String {
        var out = ""
        let fault = HTMLText.escaped(f.name)
        let sx = Self.n(x(f.scheduledAt))
        out +=
            "<line class=\"scheduled\" x1=\"\(sx)\" x2=\"\(sx)\" y1=\"\(Self.n(y + 1))\" y2=\"\(Self.n(y + 19))\"><title>\(fault) scheduled at +\(DurationText.format(f.scheduledAt))</title></line>"
        guard let start = f.injectedAt else {
            out +=
                "<text class=\"note bad\" x=\"\(Self.n(x(f.scheduledAt) + 4))\" y=\"\(Self.n(y + 14))\">not injected\(f.error.map { ": " + HTMLText.escaped(ShownText.escaped($0, limit: 80)) } ?? "")</text>"
            return out
        }
        // Without a revert (a kill has none) the window runs to the fault phase's end.
        let end = f.revertedAt ?? j.phases?.first { $0.name == "fault phase" }?.endAt ?? span.upperBound
        let left = j.residue.contains { $0.contains(f.name) } && f.revertedAt == nil
        let w = max(2, x(end) - x(start))
        let within = f.clockUncertainty.map { " ± \(DurationText.format(max($0, 1_000)))" } ?? ""
        let late = "late \(DurationText.format(max(0, start - f.scheduledAt)))\(within)"
        let engine = f.preflight.map { " · " + ShownText.escaped($0, limit: 40) } ?? ""
        let title =
            "\(f.name) (\(f.kind)) on \(f.host): injected +\(DurationText.format(start)), \(late), \(f.revertedAt.map { "reverted +\(DurationText.format($0))" } ?? "no revert recorded")"
        windows +=
            "<rect class=\"fault-window\" data-fault=\"\(fault)\" x=\"\(Self.n(x(start)))\" y=\"%TOP%\" width=\"\(Self.n(w))\" height=\"%HEIGHT%\" fill=\"\(color)\"><title>\(HTMLText.escaped(title))</title></rect>"
        out +=
            "<rect class=\"fault\(left ? " open" : "")\" data-fault=\"\(fault)\" x=\"\(Self.n(x(start)))\" y=\"\(Self.n(y + 3))\" width=\"\(Self.n(w))\" height=\"15\" fill=\"\(color)\"><title>\(HTMLText.escaped(title))</title></rect>"
        let text = "\(f.kind) · \(f.host)\(engine) · \(late)"
        // The label goes right of the bar's start, or left of it near the chart's right end.
        let room = Self.x1 - x(start)
        let anchor = room > Double(text.count) * 6.2 + 8 ? "start" : "end"
        let tx = anchor == "start" ? x(start) + 4 : x(start) - 4
        out += "<text class=\"note\" x=\"\(Self.n(tx))\" y=\"\(Self.n(y + 14))\" text-anchor=\"\(anchor)\">\(HTMLText.escaped(text))</text>"
        if let c = f.confirmedAt {
            out +=
                "<circle class=\"confirmed\" cx=\"\(Self.n(x(c)))\" cy=\"\(Self.n(y + 10.5))\" r=\"3.5\"><title>\(fault) confirmed at +\(DurationText.format(c))\(within)\(f.confirmation.map { ": " + HTMLText.escaped($0) } ?? "")</title></circle>"
        }
        if let h = f.healedAt {
            out +=
                "<path class=\"healed\" d=\"M\(Self.n(x(h))) \(Self.n(y + 4))l5 6.5l-5 6.5l-5-6.5z\"><title>\(fault) healed: a new process seen at +\(DurationText.format(h))\(f.healedBy.map { " (" + HTMLText.escaped($0) + ")" } ?? "")</title></path>"
        }
        return out
    }

    /// The run's events and the system's own markers, one lane each, ticks labelled where
    /// there is room (every tick names itself in its tooltip).
    func markerLanes(y: Double, into body: inout String) -> Double {
        var lanes: [(String, [(Nanos, String)])] = []
        if let markers = j.markers, !markers.isEmpty {
            var bySource: [String: [(Nanos, String)]] = [:]
            var order: [String] = []
            for m in markers {
                if bySource[m.source] == nil { order.append(m.source) }
                bySource[m.source, default: []].append((m.at, m.name))
            }
            for s in order { lanes.append(("markers: \(s)", bySource[s]!)) }
        }
        let phase = j.phases?.first { $0.name == "fault phase" }
        let during = j.events.filter { e in phase.map { e.at >= $0.startAt } ?? true }.map { ($0.at, $0.what) }
        if !during.isEmpty { lanes.append(("events", during)) }
        var used = 0.0
        for (name, ticks) in lanes {
            body += label(name, y: y + used + 12, cls: "lane")
            var rowEnd = [Double](repeating: -1e9, count: 3)
            var out = "<g class=\"\(name == "events" ? "events" : "markers")\">"
            for (t, what) in ticks {
                let px = x(t)
                out +=
                    "<line class=\"marker\" x1=\"\(Self.n(px))\" x2=\"\(Self.n(px))\" y1=\"\(Self.n(y + used + 2))\" y2=\"\(Self.n(y + used + 44))\"><title>+\(DurationText.format(t)) \(HTMLText.escaped(what))</title></line>"
                let text = ShownText.escaped(what, limit: 28)
                let w = Double(text.count) * 6.2 + 8
                let left = px + w > Self.x1
                if let row = rowEnd.firstIndex(where: { $0 < (left ? px - w : px) }) {
                    out +=
                        "<text class=\"note\" x=\"\(Self.n(left ? px - 3 : px + 3))\" y=\"\(Self.n(y + used + 12 + Double(row) * 14))\"\(left ? " text-anchor=\"end\"" : "")>\(HTMLText.escaped(text))</text>"
                    rowEnd[row] = left ? px + 4 : px + w
                }
            }
            body += out + "</g>"
            used += 50
        }
        return used
    }

    /// A series' outcome strip and its latency panel.
    func series(_ s: ProbeSeries, title: String, y: Double, into body: inout String) -> Double {
        let a = strip(s, title: title, y: y, into: &body)
        return a + latencyPanel(s, title: "response time", y: y + a, into: &body)
    }

    func buckets(_ s: ProbeSeries) -> SampleBuckets {
        SampleBuckets(s, span: span, count: Int(Self.x1 - Self.x0))
    }

    /// Green where every sample of a pixel column succeeded, red where any failed (dark red:
    /// all), blank where none was taken; runs of one colour drawn as one rectangle.
    func strip(_ s: ProbeSeries, title: String, y: Double, into body: inout String) -> Double {
        let b = buckets(s)
        body += label(title, y: y + 11, cls: "lane")
        var out = "<g class=\"outcomes\" data-series=\"\(HTMLText.escaped(s.probe))\">"
        // A sample's outcome stands until the next one, for at most 1.5 of the probe's
        // intervals (3 of the median gap for the workload): a gap in sampling stays blank.
        let hold: Nanos =
            s.interval.map { $0 * 3 / 2 }
            ?? {
                let t = s.started.sorted()
                guard t.count > 1 else { return 0 }
                let gaps = zip(t.dropFirst(), t).map { $0 - $1 }.sorted()
                return gaps[gaps.count / 2] * 3
            }()
        let n = b.buckets.count
        let bucketNs = Double(b.span.upperBound - b.span.lowerBound) / Double(n)
        let holdBuckets = Int(Double(hold) / bucketNs)
        var states = [Int](repeating: 0, count: n)
        var last = -1
        for (i, k) in b.buckets.enumerated() {
            if !k.isEmpty {
                states[i] = k.failed == 0 ? 1 : k.ok == 0 ? 3 : 2
                last = i
            } else if last >= 0, i - last <= holdBuckets {
                states[i] = states[last]
            }
        }
        var i = 0
        while i < n {
            let st = states[i]
            var k = i
            var ok = 0
            var failed = 0
            while k < n, states[k] == st {
                ok += b.buckets[k].ok
                failed += b.buckets[k].failed
                k += 1
            }
            if st != 0 {
                let from = b.start(of: i)
                let to = k < n ? b.start(of: k) : b.span.upperBound
                let cls = ["", "ok", "some-failed", "failed"][st]
                out +=
                    "<rect class=\"\(cls)\" x=\"\(Self.n(x(from)))\" y=\"\(Self.n(y + 2))\" width=\"\(Self.n(max(1, x(to) - x(from))))\" height=\"12\"><title>+\(DurationText.format(from)) to +\(DurationText.format(to)): \(ok) ok, \(failed) failed</title></rect>"
            }
            i = k
        }
        body += out + "</g>"
        return 18
    }

    /// Each pixel column's fastest and slowest sample as a vertical stroke, successes in blue,
    /// failures in red, on a log scale of whole decades.
    func latencyPanel(_ s: ProbeSeries, title: String, y: Double, into body: inout String) -> Double {
        let b = buckets(s)
        guard let range = b.latencyRange else { return 0 }
        let h = 80.0
        var lo = 1.0
        while lo * 10 <= Double(max(1, range.lowerBound)) { lo *= 10 }
        var hi = lo * 10
        while hi < Double(range.upperBound) { hi *= 10 }
        let decades = log10(hi / lo)
        func py(_ v: Nanos) -> Double {
            let f = log10(max(Double(v), lo) / lo) / decades
            return y + 4 + h - f * h
        }
        body +=
            "<text class=\"lane\" x=\"\(Self.n(Self.x0 - 52))\" y=\"\(Self.n(y + 4 + h / 2 + 4))\" text-anchor=\"end\">\(HTMLText.escaped(ShownText.escaped(title, limit: 24)))</text>"
        var out = "<g class=\"latency\" data-series=\"\(HTMLText.escaped(s.probe))\">"
        out +=
            "<rect class=\"panel\" x=\"\(Self.n(Self.x0))\" y=\"\(Self.n(y + 4))\" width=\"\(Self.n(Self.x1 - Self.x0))\" height=\"\(Self.n(h))\"/>"
        var d = lo
        while d <= hi * 1.0001 {
            let yy = Self.n(py(Nanos(d)))
            out += "<line class=\"decade\" x1=\"\(Self.n(Self.x0))\" x2=\"\(Self.n(Self.x1))\" y1=\"\(yy)\" y2=\"\(yy)\"/>"
            out +=
                "<text class=\"tick\" x=\"\(Self.n(Self.x0 - 4))\" y=\"\(Self.n(py(Nanos(d)) + 3))\" text-anchor=\"end\">\(DurationText.format(Nanos(d)))</text>"
            d *= 10
        }
        let stroke = Self.n(max(1.2, (Self.x1 - Self.x0) / Double(b.buckets.count)))
        var ok = ""
        var bad = ""
        for (i, k) in b.buckets.enumerated() {
            let cx = Self.n(x(b.start(of: i)) + (Self.x1 - Self.x0) / Double(b.buckets.count) / 2)
            if let r = k.okLatency { ok += "M\(cx) \(Self.n(py(r.upperBound)))V\(Self.n(py(r.lowerBound)))" }
            if let r = k.failedLatency { bad += "M\(cx) \(Self.n(py(r.upperBound)))V\(Self.n(py(r.lowerBound)))" }
        }
        if !ok.isEmpty { out += "<path class=\"ok\" stroke-width=\"\(stroke)\" d=\"\(ok)\"/>" }
        if !bad.isEmpty { out += "<path class=\"failed\" stroke-width=\"\(stroke)\" d=\"\(bad)\"/>" }
        body += out + "</g>"
        return h + 12
    }
}

/// Text for HTML and SVG: what a file or a run supplied, shown as text and nothing else.
enum HTMLText {
    /// Control and format characters as visible escapes (`ShownText`), then `& < > " '` as
    /// entities: safe in element content and in quoted attributes alike.
    static func escaped(_ s: String) -> String {
        var out = ""
        for ch in ShownText.controlsEscaped(s) {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }
}
