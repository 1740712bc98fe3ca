/// Sizes as experiments write them: `512MiB`, `2GiB`, `100MB`, `4096` (bytes), `1.5GiB`.
public enum ByteSizeText {
    static let units: [(String, Double)] = [
        ("TiB", 1_099_511_627_776), ("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1_024), ("TB", 1e12), ("GB", 1e9),
        ("MB", 1e6), ("KB", 1e3), ("kB", 1e3), ("B", 1),
    ]

    /// The bytes `text` names, or nil when it is not a size (or above 1 PiB).
    public static func parse(_ text: String) -> UInt64? {
        let unit = units.first { text.hasSuffix($0.0) }
        let number = unit.map { String(text.dropLast($0.0.count)) } ?? text
        guard !number.isEmpty, number.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 46 }), number.utf8.filter({ $0 == 46 }).count <= 1,
            let v = Double(number), v.isFinite
        else { return nil }
        let bytes = v * (unit?.1 ?? 1)
        guard bytes >= 0, bytes <= 1_125_899_906_842_624 else { return nil }
        return UInt64(bytes.rounded())
    }

    /// `512 MiB`, `1.5 GiB`, `300 B`: binary units, at most one decimal.
    public static func format(_ bytes: UInt64) -> String {
        for (name, size) in units.prefix(4) where Double(bytes) >= size {
            let v = Double(bytes) / size
            let text = v >= 100 || v == v.rounded() ? String(Int(v.rounded())) : String(Double(Int(v * 10)) / 10)
            return "\(text) \(name)"
        }
        return "\(bytes) B"
    }
}

/// Numbers with a fixed count of decimals, without Foundation's formatter (the agent has none).
public enum FixedText {
    /// `format(1.567, 2)` is `1.57`; `format(3, 1)` is `3.0`.
    public static func format(_ v: Double, _ digits: Int) -> String {
        guard v.isFinite else { return "\(v)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let n = Int64((abs(v) * scale).rounded())
        let whole = n / Int64(scale)
        var frac = String(n % Int64(scale))
        while frac.count < digits { frac = "0" + frac }
        return (v < 0 && n != 0 ? "-" : "") + "\(whole)" + (digits > 0 ? ".\(frac)" : "")
    }
}
