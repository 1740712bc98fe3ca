import FoundationEssentials
import Glibc

/// Judges a loss fault from its mechanism's own counters while probe packets went through it:
/// `handled` packets reached the delay line (or netem), `dropped` of them were dropped. Pure.
public enum LossSample {
    public enum Verdict: Equatable, Sendable {
        /// The loss is there, and (for independent loss) consistent with the share asked.
        case seen(String)
        /// The sample is too small to tell the share asked from none; the mechanism is trusted.
        case tooSmall(String)
        /// Absent, or far from what was asked: the fault did not take as asked.
        case absent(String)
    }

    /// The share of packets lost in the long run.
    public static func mean(_ loss: Shaping.Loss) -> Double {
        switch loss {
        case .random(let p, _): return p
        case .gilbertElliott(let p, let r, let h, let k):
            // Stationary: bad with probability p / (p + r); loses 1 - h there, 1 - k when good.
            guard p + r > 0 else { return 1 - k }
            return p / (p + r) * (1 - h) + r / (p + r) * (1 - k)
        }
    }

    /// `z` = 3.29: a 99.9 % interval, so an honest fault is called absent about once in a
    /// thousand confirmations. `what` says what was counted (`of 1000 packets the delay line…`).
    public static func judge(_ loss: Shaping.Loss, handled sent: Int, dropped lost: Int, what: String) -> Verdict {
        let p = mean(loss)
        let asked = "loss \(PercentText.format(p)) asked"
        let seen = "\(lost) dropped \(what)"
        let (low, high) = wilson(lost, sent, z: 3.29)
        let interval = "99.9 % interval \(PercentText.format(low)) to \(PercentText.format(high))"
        if sent == 0 { return .absent("\(asked), but no packet reached it: \(what)") }
        // Chance that an honest fault loses none of them.
        if pow(1 - p, Double(sent)) > 0.001 {
            return .tooSmall("\(asked): \(seen), too few to tell from none; in place by its mechanism")
        }
        if lost == 0 { return .absent("\(asked), but none dropped \(what)") }
        // Correlated loss comes in bursts: its spread is wider than a binomial's, so only its
        // presence is judged.
        let independent: Bool
        if case .random(_, let c) = loss { independent = c == 0 } else { independent = false }
        if independent, !(low...high).contains(p) { return .absent("\(asked), but \(seen) (\(interval))") }
        return .seen("\(asked): \(seen) (\(interval))")
    }

    /// Wilson's score interval for `k` successes in `n` trials.
    public static func wilson(_ k: Int, _ n: Int, z: Double) -> (Double, Double) {
        guard n > 0 else { return (0, 1) }
        let nn = Double(n)
        let phat = Double(k) / nn
        let z2 = z * z
        let centre = (phat + z2 / (2 * nn)) / (1 + z2 / nn)
        let half = z / (1 + z2 / nn) * sqrt(phat * (1 - phat) / nn + z2 / (4 * nn * nn))
        return (max(0, centre - half), min(1, centre + half))
    }
}
