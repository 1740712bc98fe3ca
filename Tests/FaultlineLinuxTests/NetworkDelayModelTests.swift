import FaultlineCore
import Foundation
import Testing

@testable import FaultlineAgent
@testable import FaultlineLinux

/// The delay line's decisions without packets or time: seeded, so every figure is exact.
@Suite("network delay model")
struct NetworkDelayModelTests {
    static let ms: Nanos = 1_000_000

    func decisions(_ s: Shaping, _ n: Int = 30_000, seed: UInt64 = 7) -> [NetworkDelayModel.Decision] {
        var m = NetworkDelayModel(s, seed: seed)
        return (0..<n).map { _ in m.decide() }
    }

    func delays(_ d: [NetworkDelayModel.Decision]) -> [Double] {
        d.compactMap { if case .hold(let t, _) = $0 { return Double(t) } else { return nil } }
    }

    func meanSD(_ xs: [Double]) -> (Double, Double) {
        let mean = xs.reduce(0, +) / Double(xs.count)
        return (mean, (xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count - 1)).squareRoot())
    }

    @Test("the same seed gives the same decisions; another seed others")
    func seeded() {
        var s = Shaping()
        s.delay = 10 * Self.ms
        s.jitter = 5 * Self.ms
        s.loss = .random(p: 0.1, correlation: 0.3)
        #expect(decisions(s, 1_000) == decisions(s, 1_000))
        #expect(decisions(s, 1_000) != decisions(s, 1_000, seed: 8))
    }

    @Test("jitter keeps its spread whatever the correlation, for every distribution, and no delay is negative")
    func jitter() {
        for dist in Shaping.Distribution.allCases {
            for rho in [0.0, 0.5, 0.9] {
                var s = Shaping()
                s.delay = 50 * Self.ms
                s.jitter = 10 * Self.ms
                s.distribution = dist
                s.correlation = rho
                let d = delays(decisions(s))
                let (mean, sd) = meanSD(d)
                // Uniform over ±10 ms has sd 10/√3 ms, normal sd 10 ms. A Pareto of shape 3 has no
                // fourth moment, so its sample deviation wanders: it is checked by its long tail.
                // Correlation shrinks the sample's information: effective n is n(1-ρ)/(1+ρ).
                let tolerance = rho < 0.8 ? 0.05 : 0.12
                switch dist {
                case .uniform:
                    #expect(abs(sd - 10e6 / 3.0.squareRoot()) / (10e6 / 3.0.squareRoot()) < tolerance, "uniform rho \(rho): sd \(sd)")
                case .normal: #expect(abs(sd - 10e6) / 10e6 < tolerance, "normal rho \(rho): sd \(sd)")
                case .pareto, .paretonormal:
                    let sorted = d.sorted()
                    let tail = sorted[Int(Double(sorted.count) * 0.999)] - sorted[sorted.count / 2]
                    #expect(tail > 35e6, "\(dist) rho \(rho): p99.9 only \(tail) above the median")
                }
                #expect(abs(mean - 50e6) < 1.5e6, "\(dist) rho \(rho): mean \(mean)")
                #expect(d.allSatisfy { $0 >= 0 })
            }
        }
    }

    @Test("correlated jitter is correlated: neighbouring delays agree")
    func correlation() {
        var s = Shaping()
        s.delay = 50 * Self.ms
        s.jitter = 10 * Self.ms
        s.distribution = .normal
        s.correlation = 0.8
        let d = delays(decisions(s))
        let (mean, sd) = meanSD(d)
        let lag1 = zip(d, d.dropFirst()).map { ($0 - mean) * ($1 - mean) }.reduce(0, +) / Double(d.count - 1) / (sd * sd)
        #expect(abs(lag1 - 0.8) < 0.02, "lag-one correlation \(lag1)")
    }

    @Test("random loss keeps its share with correlation; Gilbert–Elliott loses its stationary share")
    func loss() {
        for rho in [0.0, 0.25, 0.75] {
            var s = Shaping()
            s.loss = .random(p: 0.2, correlation: rho)
            let lost = decisions(s).filter { $0 == .drop }.count
            #expect(abs(Double(lost) / 30_000 - 0.2) < 0.012, "rho \(rho): \(lost) lost")
        }
        var ge = Shaping()
        // good→bad 1 %, bad→good 10 %; the bad state loses 70 %, the good 0.
        ge.loss = .gilbertElliott(p: 0.01, r: 0.1, h: 0.3, k: 1)
        let lost = Double(decisions(ge, 400_000).filter { $0 == .drop }.count) / 400_000
        let stationary = 0.01 / (0.01 + 0.1) * 0.7
        #expect(abs(lost - stationary) / stationary < 0.08, "Gilbert–Elliott lost \(lost), expected \(stationary)")
    }

    @Test("reordering sends its share at once; corruption marks its share")
    func reorderAndCorrupt() {
        var s = Shaping()
        s.delay = 10 * Self.ms
        s.reorder = Shaping.Reorder(p: 0.25, correlation: 0.5)
        s.corrupt = 0.01
        let d = decisions(s)
        let atOnce = d.filter { $0 == .hold(0, corrupt: false) || $0 == .hold(0, corrupt: true) }.count
        let corrupt = d.filter { if case .hold(_, true) = $0 { return true } else { return false } }.count
        #expect(abs(Double(atOnce) / 30_000 - 0.25) < 0.015, "\(atOnce) reordered")
        #expect(abs(Double(corrupt) / 30_000 - 0.01) < 0.003, "\(corrupt) corrupted")
    }
}
