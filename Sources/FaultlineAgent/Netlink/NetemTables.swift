import Glibc

/// netem's delay distribution tables, made here rather than read from iproute2's `.dist` files:
/// libnl looks for those only in /usr/lib/tc and a few other places, and Debian installs them
/// under /usr/lib/x86_64-linux-gnu/tc, so naming a table failed on a real netem kernel
/// ("Object not found"). Each table is what iproute2's generators (normal.c, pareto.c,
/// paretonormal.c) compute: 4096 values of the inverse distribution, scaled by netem's 8192
/// (NETEM_DIST_SCALE) and held to 16 bits, which netem maps a uniform draw through.
enum NetemTables {
    static let scale = 8192.0
    static let size = 16384

    /// The table for `name`: normal, pareto or paretonormal (uniform needs none).
    static func table(_ name: String) -> [Int16]? {
        switch name {
        case "normal": return normal.map(clamp)
        case "pareto": return (0..<4096).map { clamp(pareto(65536 - 16 * $0)) }
        case "paretonormal":
            return stride(from: 0, to: size, by: 4).enumerated().map { k, i in
                clamp(Double((Int(normal[k]) + 3 * Int(pareto(65536 - 4 * i))) / 4))
            }
        default: return nil
        }
    }

    /// The normal table before it is held to 16 bits, rounded: for every fourth of 16384
    /// steps, the largest x of a grid from -10 to 10 (step 0.00005) whose normal CDF rounds to
    /// that step, as iproute2's loop finds it.
    static let normal: [Double] = {
        var table = [Double](repeating: 0, count: size + 1)
        var x = -10.0
        while x < 10.05 {
            let i = Int((Double(size) * (0.5 + 0.5 * erf(x / 2.0.squareRoot()))).rounded(.toNearestOrEven))
            table[i] = x
            x += 0.00005
        }
        return stride(from: 0, to: size, by: 4).map { (table[$0] * scale).rounded(.toNearestOrEven) }
    }()

    /// A Pareto value (shape 3) for `i` of 65536, shifted and scaled as netem's table is.
    static func pareto(_ i: Int) -> Double {
        var v = 1.0 / pow(Double(i) / 65536, 1.0 / 3.0)
        v -= 1.5
        v *= (4.0 / 3.0) * scale
        return min(v, 32767).rounded(.toNearestOrEven)
    }

    static func clamp(_ v: Double) -> Int16 { Int16(max(-32768, min(32767, v))) }
}
