internal import CCurl
import FaultlineCore
import Foundation

/// An HTTP request through libcurl; succeeds on an accepted status and matching body.
///
/// The handle is reused, so connections are kept alive between samples like a real client's.
final class HTTPProbe: Probe {
    let spec: ProbeSpec.HTTP
    private let curl: CurlEasy
    private let regex: Pattern?

    init(_ spec: ProbeSpec.HTTP) throws(ProbeError) {
        self.spec = spec
        curl = try CurlEasy()
        try curl.set(CURLOPT_URL, spec.url)
        try curl.set(CURLOPT_TIMEOUT_MS, Int(spec.timeout / 1_000_000))
        try curl.set(CURLOPT_CONNECTTIMEOUT_MS, Int(spec.timeout / 1_000_000))
        if spec.method == "HEAD" { try curl.set(CURLOPT_NOBODY, 1) }
        if let body = spec.body { try curl.set(CURLOPT_COPYPOSTFIELDS, body) }
        // A body makes libcurl send POST; naming the method keeps what the experiment asked for.
        if spec.method != "HEAD", spec.method != "GET" || spec.body != nil { try curl.set(CURLOPT_CUSTOMREQUEST, spec.method) }
        if !spec.headers.isEmpty { try curl.setHeaders(spec.headers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }) }
        regex = try spec.bodyRegex.map { (p) throws(ProbeError) in
            do { return try Pattern(p) } catch { throw ProbeError.setup("invalid body_regex \(shown: p): \(error)") }
        }
    }

    func sample() -> ProbeSample {
        Probes.timed {
            switch curl.perform() {
            case .failure(let f):
                return (false, f.message)
            case .success(let code):
                guard spec.status.contains(where: { $0.contains(code) }) else { return (false, "status \(code)") }
                if spec.bodyContains != nil || regex != nil {
                    let text = String(decoding: curl.responseBody, as: UTF8.self)
                    if let want = spec.bodyContains, !text.contains(want) { return (false, "body lacks \(shown: want)") }
                    if let re = regex {
                        do {
                            if try !re.matches(text) { return (false, "body does not match /\(ShownText.escaped(re.source))/") }
                        } catch {
                            return (
                                false,
                                "body_regex needed more than \(Pattern.defaultBudget) steps on a body of \(curl.responseBody.count) bytes"
                            )
                        }
                    }
                }
                return (true, nil)
            }
        }
    }
}
