import FaultlineEssentials
import FoundationEssentials
import Glibc

/// What the queue engine does to each packet, with netem's parameters: drop it (random loss
/// with correlation, or Gilbert–Elliott), send it at once (reordering), or hold it for the delay
/// plus a jitter drawn from the distribution and correlated with the previous draw; and maybe
/// corrupt it. Pure and seeded: the same arrivals give the same decisions, so it is tested
/// without packets or time.
///
/// Correlation keeps the share asked for. netem's own (`ρ·last + (1−ρ)·u`) narrows the draw, so
/// 20 % loss with 25 % correlation loses about 10 %; here a correlated decision is a two-state
/// Markov chain whose stationary share is exactly `p`, and a correlated delay comes from an
/// AR(1) normal mapped through its distribution, so its spread is the one asked for.
package struct NetworkDelayModel {
    package enum Decision: Equatable {
        case drop
        /// Released this many nanoseconds after it arrived (0: at once); `corrupt` flips one bit.
        case hold(Nanos, corrupt: Bool)
    }

    let shaping: Shaping
    private var random: SplitMix
    private var latent = 0.0
    private var lastLost = false
    private var lastReordered = false
    private var badState = false

    package init(_ shaping: Shaping, seed: UInt64) {
        self.shaping = shaping
        random = SplitMix(seed)
    }

    mutating func decide() -> Decision {
        if lost() { return .drop }
        let corrupt = shaping.corrupt.map { random.unit() < $0 } ?? false
        if let r = shaping.reorder {
            lastReordered = chain(lastReordered, r.p, r.correlation)
            if lastReordered { return .hold(0, corrupt: corrupt) }
        }
        return .hold(delay(), corrupt: corrupt)
    }

    /// A yes/no with share `p` and lag-one correlation `rho`: after a yes, yes with probability
    /// `p + rho(1-p)`; after a no, `p(1-rho)`. Its stationary share is `p`.
    mutating func chain(_ last: Bool, _ p: Double, _ rho: Double) -> Bool {
        random.unit() < (last ? p + rho * (1 - p) : p * (1 - rho))
    }

    mutating func lost() -> Bool {
        switch shaping.loss {
        case nil: return false
        case .random(let p, let c)?:
            lastLost = chain(lastLost, p, c)
            return lastLost
        case .gilbertElliott(let p, let r, let h, let k)?:
            // Move between states, then lose with the state's probability (1-k good, 1-h bad).
            if badState { if random.unit() < r { badState = false } } else if random.unit() < p { badState = true }
            return random.unit() < (badState ? 1 - h : 1 - k)
        }
    }

    mutating func delay() -> Nanos {
        let mu = Double(shaping.delay)
        let sigma = Double(shaping.jitter)
        guard sigma > 0 else { return shaping.delay }
        // AR(1): the latent normal keeps mean 0 and deviation 1 whatever the correlation.
        let rho = shaping.correlation
        latent = rho * latent + (1 - rho * rho).squareRoot() * Self.normal(random.unit(), random.unit())
        let u = 0.5 * (1 + erf(latent / 2.0.squareRoot()))  // uniform, through the normal's CDF
        let z: Double
        switch shaping.distribution {
        case .uniform: z = 2 * u - 1  // ±sigma, as netem spreads it
        case .normal: z = latent
        case .pareto: z = Self.pareto(u)
        case .paretonormal: z = random.unit() < 0.25 ? Self.pareto(u) : latent
        }
        return Nanos(max(0, mu + sigma * z).rounded())
    }

    /// A standard normal from two uniforms (Box–Muller).
    static func normal(_ u1: Double, _ u2: Double) -> Double {
        sqrt(-2 * log(max(u1, 1e-12))) * cos(2 * .pi * u2)
    }

    /// A Pareto draw (shape 3), shifted and scaled to mean 0 and standard deviation 1: a long
    /// tail of large delays, as netem's pareto table has.
    static func pareto(_ u: Double) -> Double {
        let x = pow(1 - min(u, 1 - 1e-12), -1.0 / 3)
        return (x - 1.5) / 0.866_025_4
    }
}
