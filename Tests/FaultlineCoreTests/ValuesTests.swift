import Testing

@testable import FaultlineCore

@Suite("durations, rates, percentages, suggestions")
struct ValuesTests {
    @Test(
        "durations parse",
        arguments: [
            ("250ms", 250_000_000), ("5s", 5_000_000_000), ("2m", 120_000_000_000), ("1h", 3_600_000_000_000),
            ("1m30s", 90_000_000_000), ("1.5s", 1_500_000_000), ("0", 0), ("500us", 500_000), ("500µs", 500_000),
            ("10ns", 10), (" 3s ", 3_000_000_000),
        ] as [(String, Int64)])
    func durationParses(_ text: String, _ ns: Int64) {
        #expect(DurationText.parse(text) == ns)
    }

    @Test("non-durations are rejected", arguments: ["", "5", "s", "5 s", "5sec", "-1s", "1s2", "abc", "1..5s", "5x"])
    func durationRejects(_ text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test("durations format compactly")
    func durationFormats() {
        #expect(DurationText.format(0) == "0s")
        #expect(DurationText.format(850) == "850ns")
        #expect(DurationText.format(850_000) == "850µs")
        #expect(DurationText.format(12_345_678) == "12.35ms")
        #expect(DurationText.format(2_003_000_000) == "2.003s")
        #expect(DurationText.format(4_250_000_000) == "4.25s")
        #expect(DurationText.format(125_000_000_000) == "2m5s")
        #expect(DurationText.format(-1_500_000_000) == "-1.5s")
    }

    @Test("rates parse", arguments: [("200/s", 200.0), ("5/ms", 5000.0), ("60/m", 1.0), ("1/10s", 0.1), ("3600/h", 1.0)])
    func rateParses(_ text: String, _ perSecond: Double) {
        let r = Rate.parse(text)
        #expect(r != nil)
        #expect(abs((r?.perSecond ?? 0) - perSecond) < 1e-9)
    }

    @Test("non-rates are rejected", arguments: ["200", "/s", "0/s", "-5/s", "5/parsec", "5/s/s", "x/s"])
    func rateRejects(_ text: String) {
        #expect(Rate.parse(text) == nil)
    }

    @Test("rate interval")
    func rateInterval() {
        #expect(Rate.parse("200/s")?.interval == 5_000_000)
    }

    @Test("percentages")
    func percentages() {
        #expect(abs((PercentText.parse("99.9%") ?? 0) - 0.999) < 1e-12)
        #expect(PercentText.parse("0.5") == 0.5)
        #expect(PercentText.parse("100%") == 1)
        #expect(PercentText.parse("101%") == nil)
        #expect(PercentText.parse("1.5") == nil)
        #expect(PercentText.format(0.99951) == "99.951%")
        #expect(PercentText.format(1) == "100%")
    }

    @Test("did-you-mean")
    func suggestions() {
        #expect(Suggest.closest(to: "kil", in: ["kill", "pause"]) == "kill")
        #expect(Suggest.closest(to: "titel", in: ["title", "tags"]) == "title")
        #expect(Suggest.closest(to: "zzzzzz", in: ["kill", "pause"]) == nil)
        #expect(Suggest.distance("ab", "ba") == 1)
        #expect(Suggest.hint(for: "qq", in: ["a", "b"]) == "(valid: a, b)")
    }
}
