import FaultlineCore
import Foundation

/// One observation: success, how long it took, and why it failed.
public struct ProbeSample: Sendable {
    public var ok: Bool
    public var latency: Int64
    public var reason: String?
    /// The number a value probe recorded.
    public var value: Double?

    public init(ok: Bool, latency: Int64, reason: String?, value: Double? = nil) {
        self.ok = ok
        self.latency = latency
        self.reason = reason
        self.value = value
    }
}

/// A read-only observer. `sample()` never throws: a failure is data.
///
/// An instance is used from one thread at a time (it may own a connection).
public protocol Probe: AnyObject {
    func sample() -> ProbeSample
}

/// Builds probes from specs.
public enum Probes {
    /// A probe for `spec`, with the spec's latency tolerance applied.
    public static func make(_ spec: ProbeSpec) throws(ProbeError) -> any Probe {
        let inner: any Probe
        switch spec.kind {
        case .http(let h): inner = try HTTPProbe(h)
        case .tcp(let t): inner = TCPProbe(t)
        case .command(let c): inner = CommandProbe(c)
        case .process(let p): inner = ProcessProbe(p)
        case .prometheus(let p): inner = try PrometheusProbe(p)
        }
        guard let max = spec.maxLatency else { return inner }
        return LatencyTolerance(inner, max: max)
    }

    /// Times `body` on the monotonic clock.
    static func timed(_ body: () -> (Bool, String?)) -> ProbeSample {
        let start = MonotonicClock.now()
        let (ok, reason) = body()
        return ProbeSample(ok: ok, latency: MonotonicClock.now() - start, reason: reason)
    }
}

public enum ProbeError: Error, Equatable, Sendable, CustomStringConvertible {
    case setup(String)
    public var description: String {
        switch self {
        case .setup(let s): return s
        }
    }
}

/// Fails samples slower than `max`, keeping the inner result otherwise.
final class LatencyTolerance: Probe {
    let inner: any Probe
    let max: Int64

    init(_ inner: any Probe, max: Int64) {
        self.inner = inner
        self.max = max
    }

    func sample() -> ProbeSample {
        var s = inner.sample()
        if s.ok, s.latency > max {
            s.ok = false
            s.reason = "slower than \(DurationText.format(max))"
        }
        return s
    }
}

/// Succeeds when enough processes match a selector.
final class ProcessProbe: Probe {
    let spec: ProbeSpec.Process
    init(_ spec: ProbeSpec.Process) { self.spec = spec }

    func sample() -> ProbeSample {
        Probes.timed {
            do throws(FaultError) {
                let n = try ProcessResolver.matches(spec.selector).count
                return n >= spec.min ? (true, nil) : (false, "\(n) of \(spec.min) processes with \(spec.selector)")
            } catch {
                return (false, error.description)
            }
        }
    }
}

/// Runs a command; succeeds on the expected exit code (and output).
final class CommandProbe: Probe {
    let spec: ProbeSpec.Command
    init(_ spec: ProbeSpec.Command) { self.spec = spec }

    func sample() -> ProbeSample {
        var value: Double?
        var s = Probes.timed {
            let r = Spawner.run(spec.command, timeout: spec.timeout)
            if let e = r.error { return (false, e) }
            guard r.status == spec.exitCode else { return (false, "exit \(r.status ?? -1), expected \(spec.exitCode)") }
            if let want = spec.stdoutContains, !r.output.contains(want) { return (false, "output lacks '\(want)'") }
            if spec.value {
                let text = r.output.trimmingCharacters(in: .whitespacesAndNewlines)
                guard let v = Double(text), v.isFinite else {
                    return (false, "output is not a number: \(ShownText.escaped(text, limit: 40))")
                }
                value = v
            }
            return (true, nil)
        }
        s.value = value
        return s
    }
}
