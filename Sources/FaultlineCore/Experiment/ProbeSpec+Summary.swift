extension ProbeSpec {
    /// One line naming what the probe does and what counts as success.
    public var summary: String {
        var s: String
        switch kind {
        case .http(let h):
            let status = h.status.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            s = "\(h.method) \(h.url) → \(status.joined(separator: ","))"
            if let c = h.bodyContains { s += " with '\(c)'" }
            if let r = h.bodyRegex { s += " matching /\(r)/" }
        case .tcp(let t):
            s = "tcp connect \(t.host):\(t.port)"
        case .command(let c):
            s = "\(c.command) exits \(c.exitCode)"
            if let o = c.stdoutContains { s += " printing '\(o)'" }
        case .process(let p):
            s = "≥ \(p.min) process(es) with \(p.selector) on \(p.host)"
        case .prometheus(let p):
            s = "PromQL \(p.query) at \(p.url)"
        }
        if let m = maxLatency { s += " within \(DurationText.format(m))" }
        return s
    }
}

extension ProbeSpec {
    /// Whether each sample records a number (a command probe with `value: true`, a PromQL query).
    public var recordsValues: Bool {
        switch kind {
        case .command(let c): return c.value
        case .prometheus: return true
        default: return false
        }
    }
}
