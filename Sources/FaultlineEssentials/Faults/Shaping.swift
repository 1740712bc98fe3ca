/// What a network fault does to the packets it selects, in netem's terms (both engines
/// implement the same model): a delay with jitter drawn from a distribution and correlated with
/// the last one, random or Gilbert–Elliott loss, duplication, corruption, reordering, and a
/// token-bucket rate.
public struct Shaping: Codable, Equatable, Sendable {
    public enum Distribution: String, Codable, Sendable, CaseIterable {
        /// Jitter spread evenly over ±jitter (netem's default).
        case uniform
        /// Jitter with standard deviation `jitter`.
        case normal
        case pareto
        case paretonormal
    }

    public enum Loss: Codable, Equatable, Sendable {
        /// Each packet lost with probability `p`, correlated with the previous decision.
        case random(p: Double, correlation: Double)
        /// Gilbert–Elliott: a good and a bad state; `p` good→bad, `r` bad→good per packet,
        /// `1-h` the loss in the bad state, `1-k` in the good one.
        case gilbertElliott(p: Double, r: Double, h: Double, k: Double)
    }

    public struct Reorder: Codable, Equatable, Sendable {
        /// Share of packets sent at once, ahead of the delayed ones.
        public var p: Double
        public var correlation: Double

        public init(p: Double, correlation: Double = 0) {
            self.p = p
            self.correlation = correlation
        }
    }

    public struct Rate: Codable, Equatable, Sendable {
        public var bitsPerSecond: UInt64
        /// Bucket size in bytes.
        public var burst: UInt32

        public init(bitsPerSecond: UInt64, burst: UInt32) {
            self.bitsPerSecond = bitsPerSecond
            self.burst = burst
        }
    }

    public var delay: Nanos = 0
    public var jitter: Nanos = 0
    public var correlation: Double = 0
    public var distribution: Distribution = .uniform
    public var loss: Loss?
    public var duplicate: Double?
    public var corrupt: Double?
    public var reorder: Reorder?
    public var rate: Rate?

    public init() {}

    public var isEmpty: Bool { delay == 0 && loss == nil && duplicate == nil && corrupt == nil && reorder == nil && rate == nil }

    /// Why the queue engine cannot do this, or nil: a verdict passes or drops one packet, so it
    /// cannot make a second.
    public var unsupportedByQueue: String? {
        duplicate == nil ? nil : "cannot duplicate packets (an NFQUEUE verdict passes or drops one packet)"
    }

    /// Whether the queue engine's delay line is needed: for every effect but the rate (loss
    /// included: it drops after the packet has left the socket, and counts what it dropped).
    public var needsDelayLine: Bool { delay > 0 || corrupt != nil || reorder != nil || loss != nil }

    public var summary: String {
        var parts: [String] = []
        if delay > 0 {
            var d = "delay \(DurationText.format(delay))"
            if jitter > 0 { d += " ± \(DurationText.format(jitter)) \(distribution.rawValue)" }
            if correlation > 0 { d += " (correlation \(PercentText.format(correlation)))" }
            parts.append(d)
        }
        switch loss {
        case .random(let p, let c)?:
            parts.append("loss \(PercentText.format(p))" + (c > 0 ? " (correlation \(PercentText.format(c)))" : ""))
        case .gilbertElliott(let p, let r, let h, let k)?:
            parts.append(
                "loss gilbert-elliott p \(PercentText.format(p)) r \(PercentText.format(r)) h \(PercentText.format(h)) k \(PercentText.format(k))"
            )
        case nil: break
        }
        if let d = duplicate { parts.append("duplicate \(PercentText.format(d))") }
        if let c = corrupt { parts.append("corrupt \(PercentText.format(c))") }
        if let r = reorder { parts.append("reorder \(PercentText.format(r.p))") }
        if let r = rate { parts.append("rate \(BandwidthText.format(r.bitsPerSecond)) burst \(r.burst)B") }
        return parts.joined(separator: ", ")
    }

}

/// Bandwidths and sizes as tc writes them: `10mbit`, `1.5gbit`, `100kbit`, `12mbps` (bytes),
/// and `32kb`, `1mb`, `1500b`, `64k`.
public enum BandwidthText {
    /// Bits per second; nil when it is not a bandwidth.
    public static func bits(_ text: String) -> UInt64? {
        let units: [(String, Double)] = [
            ("tbit", 1e12), ("gbit", 1e9), ("mbit", 1e6), ("kbit", 1e3), ("bit", 1), ("tbps", 8e12), ("gbps", 8e9), ("mbps", 8e6),
            ("kbps", 8e3), ("bps", 8),
        ]
        return scaled(text.lowercased(), units)
    }

    /// Bytes; nil when it is not a size.
    public static func bytes(_ text: String) -> UInt64? {
        let units: [(String, Double)] = [
            ("gb", 1_073_741_824), ("mb", 1_048_576), ("kb", 1_024), ("g", 1_073_741_824), ("m", 1_048_576), ("k", 1_024), ("b", 1),
        ]
        return scaled(text.lowercased(), units)
    }

    static func scaled(_ s: String, _ units: [(String, Double)]) -> UInt64? {
        for (suffix, factor) in units where s.hasSuffix(suffix) {
            let number = s.dropLast(suffix.count)
            guard !number.isEmpty, number.allSatisfy({ ($0 >= "0" && $0 <= "9") || $0 == "." }), let v = Double(number), v > 0 else {
                return nil
            }
            let total = v * factor
            return total.isFinite && total < 1e19 ? UInt64(total.rounded()) : nil
        }
        return nil
    }

    /// `10mbit`, `1.5gbit`.
    public static func format(_ bps: UInt64) -> String {
        for (suffix, factor) in [("gbit", 1e9), ("mbit", 1e6), ("kbit", 1e3)] where Double(bps) >= factor {
            return DurationText.trim(Double(bps) / factor) + suffix
        }
        return "\(bps)bit"
    }
}
