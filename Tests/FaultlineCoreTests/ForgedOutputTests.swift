import Foundation
import Testing

@testable import FaultlineCore

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Text from an experiment file (or from the system under test) cannot add lines, headings,
/// tables, tags or a verdict to what faultline writes.
@Suite("output that cannot be forged")
struct ForgedOutputTests {
    static let forged = "x\n\n**Verdict: PASSED** (exit 0)\n\n| fake | table |\n# Checks\n<img src=x onerror=alert(1)>\u{1B}[2J\u{0}"

    func journal() -> Journal {
        var e = Experiment(title: Self.forged, duration: 1_000_000_000)
        e.description = Self.forged
        e.tags = [Self.forged]
        var j = Journal(runId: "20261201-000000-0000", experiment: ExperimentSummary(e), startedAt: "2026-12-01T00:00:00.000Z")
        j.verdict = .failed
        j.exitCode = 1
        j.reasons = [Self.forged]
        j.events = [TimelineEvent(at: 0, what: Self.forged, detail: Self.forged)]
        j.checks = [CheckResult(name: Self.forged, passed: false, expected: Self.forged, measured: Self.forged, evidence: Self.forged)]
        j.residue = [Self.forged]
        return j
    }

    @Test("report.md: one verdict line, no heading, table row, tag or control character from the file")
    func markdown() {
        let md = MarkdownWriter.render(journal())
        let lines = md.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.filter { $0.hasPrefix("**Verdict:") } == ["**Verdict: FAILED** (exit 1)"])
        #expect(lines.filter { $0.hasPrefix("#") }.dropFirst() == ["## Checks", "## Residue", "## Timeline"], "no heading but ours")
        #expect(lines.first?.hasPrefix("# x  \\*\\*Verdict: PASSED\\*\\* (exit 0)  \\| fake \\| table \\| # Checks \\<img") == true)
        // Every '<' and '|' that came from the file is escaped: no tag, no table cell of its own.
        let scalars = Array(md.unicodeScalars)
        for (i, u) in scalars.enumerated() where u == "<" { #expect(i > 0 && scalars[i - 1] == "\\", "a raw '<' in report.md") }
        #expect(!md.contains("| fake |"), "no raw table row")
        #expect(!md.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0 }, "no raw control character")
    }

    @Test("junit.xml stays well-formed XML with control characters and markup in every field")
    func junit() throws {
        let xml = JUnitWriter.render(journal())
        #expect(!xml.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0 })
        let parser = XMLParser(data: Data(xml.utf8))
        #expect(parser.parse(), "not well-formed: \(parser.parserError.map { "\($0)" } ?? "")")
    }

    @Test("plan: a title, a probe name or a command with a line break adds no line, and a shell script is quoted")
    func plan() throws {
        let e = try ExperimentLoader.load(
            text: """
                version: 1
                title: "t\\n    +0s\\tkill everything"
                duration: 2s
                steady_state: [{name: "a\\nb", tcp: "127.0.0.1:1"}]
                actions: [{at: 1s, command: {shell: "echo 'hi'; rm -rf /tmp/x"}}]
                """, file: "plan.yaml")
        let text = Plan(e).render()
        let lines = text.split(separator: "\n")
        #expect(lines[0] == "plan for 't\\n    +0s\\tkill everything' (plan.yaml)")
        #expect(!lines.contains { $0.hasPrefix("    +0s") })
        #expect(text.contains("run sh -c 'echo '\\''hi'\\''; rm -rf /tmp/x' [action-1]"), "\(text)")
        #expect(lines.contains("    - a\\nb: tcp connect 127.0.0.1:1"), "\(text)")
    }

    @Test("bidi overrides, isolates and zero-width characters are shown as escapes in report.md, junit.xml, plan and diagnostics")
    func bidi() throws {
        // Displayed, U+202E turns what follows around: "deliaf :tcidrev" would read "verdict: failed".
        let title = "safe \u{202E}deliaf :tcidrev\u{202C} x\u{200B}y\u{2066}z\u{2069}\u{FEFF}"
        var j = journal()
        j.experiment.title = title
        j.checks[0].name = title
        let md = MarkdownWriter.render(j)
        let xml = JUnitWriter.render(j)
        let e = try ExperimentLoader.load(text: "version: 1\ntitle: \"\(title)\"\nduration: 1s\n", file: "b.yaml")
        let plan = Plan(e).render()
        for (name, text) in [("report.md", md), ("junit.xml", xml), ("plan", plan)] {
            #expect(!text.unicodeScalars.contains { [0x202E, 0x202C, 0x200B, 0x2066, 0x2069, 0xFEFF].contains($0.value) }, "\(name)")
            #expect(text.contains("\\u{202E}"), "\(name) shows the override as an escape")
        }
        let d = Diagnostic(file: "f\u{202E}.yaml", line: 1, column: 1, message: title)
        #expect(!d.description.unicodeScalars.contains { $0.value == 0x202E })
    }

    @Test("a letter with 300,000 combining marks is cut like a long word: by bytes as well as characters")
    func combining() {
        let zalgo = "a" + String(repeating: "\u{0301}", count: 300_000)
        let shown = ShownText.escaped(zalgo)
        #expect(shown.utf8.count < 1_000, "\(shown.utf8.count) bytes")
        #expect(shown.hasSuffix("more)"))
        #expect(ShownText.escaped("plain text stays whole") == "plain text stays whole")
        #expect(ShownText.escaped(String(repeating: "é", count: 90)).hasPrefix(String(repeating: "é", count: 80) + "…(10 more)"))
    }

    @Test("a diagnostic is one line whatever the key or value holds")
    func diagnostics() {
        let d = Diagnostic(file: "x\ny.yaml", line: 1, column: 2, message: "unknown key 'a\nx.yaml:9:9: forged\u{1B}[2J'")
        #expect(!d.description.contains("\n") && !d.description.unicodeScalars.contains { $0.value == 0x1B })
        #expect(d.description == "x\\ny.yaml:1:2: unknown key 'a\\nx.yaml:9:9: forged\\u{1B}[2J'")
    }
}
