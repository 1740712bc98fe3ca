import Testing

@testable import FaultlineCore

@Suite("loss confirmation from the mechanism's counters")
struct LossSampleTests {
    @Test("20 % asked: 40 of 200 lost is seen; none lost is absent; 120 lost is far from it")
    func independent() {
        let loss = Shaping.Loss.random(p: 0.2, correlation: 0)
        guard case .seen(let t) = LossSample.judge(loss, handled: 200, dropped: 40, what: "of 200 packets the delay line was handed") else {
            Issue.record("40 of 200 should confirm 20 %")
            return
        }
        #expect(t.contains("40 dropped of 200 packets the delay line was handed"), "\(t)")
        guard case .absent = LossSample.judge(loss, handled: 200, dropped: 0, what: "of 200 packets the delay line was handed") else {
            Issue.record("none lost must not confirm")
            return
        }
        guard case .absent = LossSample.judge(loss, handled: 200, dropped: 120, what: "of 200 packets the delay line was handed") else {
            Issue.record("60 % lost is not 20 %")
            return
        }
    }

    @Test("1 % over 200 packets cannot be told from none: the mechanism is trusted, and it says so; none handled is absent")
    func tooSmall() {
        guard
            case .tooSmall(let t) = LossSample.judge(
                .random(p: 0.01, correlation: 0), handled: 200, dropped: 0, what: "of 200 packets the delay line was handed")
        else {
            Issue.record("expected too small")
            return
        }
        #expect(t.contains("too few"))
        guard case .absent(let none) = LossSample.judge(.random(p: 0.2, correlation: 0), handled: 0, dropped: 0, what: "x") else {
            Issue.record("no packet handled must not confirm")
            return
        }
        #expect(none.contains("no packet reached it"))
    }

    @Test("correlated and Gilbert–Elliott loss: presence is judged, not the share")
    func bursts() {
        guard
            case .seen = LossSample.judge(
                .random(p: 0.2, correlation: 0.5), handled: 200, dropped: 90, what: "of 200 packets the delay line was handed")
        else {
            Issue.record("bursty loss far from its mean is still loss")
            return
        }
        // Stationary loss of Gilbert–Elliott: bad 1/3 of the time losing all, good never.
        #expect(abs(LossSample.mean(.gilbertElliott(p: 0.1, r: 0.2, h: 0, k: 1)) - 1.0 / 3) < 1e-9)
    }

    @Test("Wilson's interval: 40 of 200 at 99.9 %")
    func wilson() {
        let (low, high) = LossSample.wilson(40, 200, z: 3.29)
        #expect(abs(low - 0.1229) < 0.001 && abs(high - 0.3072) < 0.001, "\(low) \(high)")
    }
}
