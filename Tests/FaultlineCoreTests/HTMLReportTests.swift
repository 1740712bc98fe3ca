import Foundation
import Testing

@testable import FaultlineCore

@Suite("report.html")
struct HTMLReportTests {
    /// `count` samples `gap` apart (1 ms by default), every one ok and 1 ms long but those in
    /// `failed` (10 s long).
    static func samples(_ count: Int, failed: Set<Int>, slow: Int? = nil, gap: Int64 = ms) -> ProbeSeries {
        var s = ProbeSeries(probe: "web", kind: "http", interval: gap)
        s.scheduled.reserveCapacity(count)
        for i in 0..<count {
            let t = Int64(i) * gap
            let bad = failed.contains(i)
            s.append(
                scheduled: t, started: t, latency: bad ? 10_000 * ms : i == slow ? 900 * ms : ms, ok: !bad, reason: bad ? "refused" : nil)
        }
        return s
    }

    @Test("one failed sample among 200,000 keeps its bucket red, and the slowest success its extreme")
    func bucketsKeepExtremes() {
        let s = Self.samples(200_000, failed: [123_457], slow: 7)
        let b = SampleBuckets(s, span: 0..<(200_000 * ms), count: 1_000)
        #expect(b.buckets.count == 1_000)
        #expect(b.buckets.reduce(0) { $0 + $1.ok + $1.failed } == 200_000)
        let bad = b.buckets.enumerated().filter { $0.element.failed > 0 }
        #expect(bad.map(\.offset) == [617], "\(bad.map(\.offset))")
        #expect(bad.first?.element.failedLatency == (10_000 * ms)...(10_000 * ms))
        #expect(b.buckets[617].ok == 199)
        #expect(b.buckets[0].okLatency == ms...(900 * ms))
        #expect(b.latencyRange == ms...(10_000 * ms))
        #expect(b.outside == 0)
    }

    @Test("samples outside the span are counted, not folded into its edges")
    func bucketsOutside() {
        let s = Self.samples(10, failed: [])
        let b = SampleBuckets(s, span: (2 * ms)..<(5 * ms), count: 3)
        #expect(b.buckets.map(\.ok) == [1, 1, 1])
        #expect(b.outside == 7)
    }

    @Test("the page names its verdict first, says its clock once, draws every injected fault's window, and fetches nothing")
    func page() throws {
        var j = ReportTests.sample()
        j.phases = [PhaseSpan(name: "fault phase", startAt: 1_000 * ms, endAt: 9_000 * ms)]
        j.markers = [MarkerRecord(name: "odown", at: 3_000 * ms, source: "n1:sentinel.log", line: "+odown master mymaster")]
        var never = FaultRecord(name: "cut", kind: "partition", host: "n2", target: "n1", scheduledAt: 4_000 * ms)
        never.error = "no route"
        j.faults.append(never)
        let html = HTMLWriter.render(j)
        let verdict = try #require(html.range(of: "<p class=\"v\">FAILED</p>"))
        let checks = try #require(html.range(of: "<section id=\"checks\">"))
        #expect(verdict.upperBound < checks.lowerBound)
        #expect(html.components(separatedBy: "from the run's start (2026-11-27T00:00:00.000Z").count == 2)
        #expect(html.components(separatedBy: "class=\"fault-window\"").count == 2)
        #expect(html.contains("data-fault=\"kill-web\""))
        #expect(html.contains("not injected: no route"))
        #expect(html.contains("+odown master mymaster"))
        #expect(html.contains("<g class=\"markers\">"))
        // Nothing fetched, nothing run: no URL but the SVG namespace, no script, a policy that forbids fetches.
        #expect(!html.contains("<script") && !html.contains("src=") && !html.contains("href=") && !html.contains("url("))
        #expect(html.components(separatedBy: "://").count == 2, "only the SVG namespace")
        #expect(html.contains("content=\"default-src 'none'; style-src 'unsafe-inline'\""))
    }

    @Test("what a file or a run supplied is text on the page, never markup")
    func hostileText() {
        var j = ReportTests.sample()
        j.experiment.title = "<script>alert(1)</script>\u{202E}deliaf"
        j.faults[0].name = "x\" onmouseover=\"alert(2)"
        j.checks[0].evidence = "<img src=x onerror=alert(3)>"
        j.markers = [MarkerRecord(name: "<b>", at: 1, source: "n1:a'b", line: "</svg><script>")]
        let html = HTMLWriter.render(j)
        #expect(!html.contains("<script>") && !html.contains("<img") && !html.contains("</svg><script"))
        #expect(!html.contains("\" onmouseover=\"") && !html.contains("\u{202E}"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;\\u{202E}deliaf"))
        #expect(html.contains("x&quot; onmouseover=&quot;alert(2)"))
    }

    @Test("the page's size depends on its width, not on the run's length")
    func sizeFlat() {
        var small = ReportTests.sample()
        small.probes = [Self.samples(2_000, failed: [10, 1_500], gap: 100 * ms)]
        small.durationNs = 200_000 * ms
        var large = small
        large.probes = [Self.samples(200_000, failed: [10, 150_000])]
        let a = HTMLWriter.render(small).utf8.count
        let b = HTMLWriter.render(large).utf8.count
        #expect(b < 200_000, "\(b) bytes")
        #expect(b < a * 2, "\(a) → \(b) bytes")
    }
}
