internal import CCurl
import FaultlineCore
import Foundation

/// An instant PromQL query (`GET /api/v1/query`) through libcurl. A sample succeeds when the
/// server answers `"status": "success"` with a scalar, or a vector of at most one series, and
/// records the number; an empty vector succeeds with no number (an alert-style query that
/// matches nothing). Several series fail the sample: which one would the brake read?
final class PrometheusProbe: Probe {
    let spec: ProbeSpec.Prometheus
    private let curl: CurlEasy

    init(_ spec: ProbeSpec.Prometheus) throws(ProbeError) {
        self.spec = spec
        curl = try CurlEasy()
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let query = spec.query.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        try curl.set(CURLOPT_URL, "\(spec.url)/api/v1/query?query=\(query)")
        try curl.set(CURLOPT_TIMEOUT_MS, Int(spec.timeout / 1_000_000))
        try curl.set(CURLOPT_CONNECTTIMEOUT_MS, Int(spec.timeout / 1_000_000))
    }

    func sample() -> ProbeSample {
        let start = MonotonicClock.now()
        let (ok, reason, value) = query()
        return ProbeSample(ok: ok, latency: MonotonicClock.now() - start, reason: reason, value: value)
    }

    private func query() -> (Bool, String?, Double?) {
        switch curl.perform() {
        case .failure(let f): return (false, f.message, nil)
        case .success(let code):
            let answer = Self.read(curl.responseBody)
            let why = answer.error.map { ShownText.escaped($0, limit: 200) }
            if code != 200 { return (false, "status \(code)" + (why.map { ": \($0)" } ?? ""), nil) }
            if let why { return (false, why, nil) }
            return (true, nil, answer.value)
        }
    }

    /// The number a query answer holds, or why there is none. Other programs' output: every
    /// shape is checked, nothing is trusted.
    static func read(_ body: Data) -> (value: Double?, error: String?) {
        guard let top = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            return (nil, "the answer is not a Prometheus API object")
        }
        guard top["status"] as? String == "success" else {
            return (nil, "\(top["errorType"] as? String ?? "error"): \(top["error"] as? String ?? "no reason given")")
        }
        guard let data = top["data"] as? [String: Any], let type = data["resultType"] as? String else {
            return (nil, "the answer has no data.resultType")
        }
        func number(_ pair: Any?) -> Double? {
            guard let p = pair as? [Any], p.count == 2, let text = p[1] as? String else { return nil }
            switch text {
            case "NaN": return .nan
            case "+Inf": return .infinity
            case "-Inf": return -.infinity
            default: return Double(text)
            }
        }
        switch type {
        case "scalar":
            guard let v = number(data["result"]) else { return (nil, "a scalar answer without a number") }
            return (v.isFinite ? v : nil, v.isFinite ? nil : "the query's value is \(v)")
        case "vector":
            guard let series = data["result"] as? [Any] else { return (nil, "a vector answer without a result list") }
            if series.isEmpty { return (nil, nil) }
            guard series.count == 1 else {
                return (nil, "the query returned \(series.count) series; one is needed (aggregate it, e.g. sum(…) or max(…))")
            }
            let pair = (series[0] as? [String: Any])?["value"]  // check-kinds: field
            guard let v = number(pair) else { return (nil, "a series without a number") }
            return (v.isFinite ? v : nil, v.isFinite ? nil : "the query's value is \(v)")
        default:
            return (nil, "a \(ShownText.escaped(type, limit: 20)) answer; an instant query of a scalar or a vector is needed")
        }
    }
}
