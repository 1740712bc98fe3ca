internal import CCurl
import FaultlineCore
import Foundation

/// Requests through libcurl with `{value}` and `{key}` filled in per operation. A 2xx status is
/// `ok`, any other status `fail` (the server answered and refused), a transport error `unknown`
/// for writes (the request may have been applied) and `fail` for GETs.
struct HTTPDriver: WorkloadDriver {
    let spec: HTTPWorkload
    let timeout: Int64

    final class Session: WorkloadSession {
        let curl: CurlEasy
        let spec: HTTPWorkload
        let host: String

        init(_ spec: HTTPWorkload, timeout: Int64) throws(ProbeError) {
            self.spec = spec
            curl = try CurlEasy()
            try curl.set(CURLOPT_TIMEOUT_MS, Int(timeout / 1_000_000))
            try curl.set(CURLOPT_CONNECTTIMEOUT_MS, Int(timeout / 1_000_000))
            if spec.method != "GET" { try curl.set(CURLOPT_CUSTOMREQUEST, spec.method) }
            if let h = spec.backendHeader { try curl.capture(header: h) }
            host = URLComponents(string: spec.url).map { "\($0.host ?? "?")\($0.port.map { ":\($0)" } ?? "")" } ?? spec.url
        }

        func perform(_ op: inout History.Op) -> Bool {
            let (value, key) = (op.value, op.key)
            let fill = { (t: String) in t.replacingOccurrences(of: "{value}", with: value).replacingOccurrences(of: "{key}", with: key) }
            do throws(ProbeError) {
                try curl.set(CURLOPT_URL, fill(spec.url))
                if let body = spec.body { try curl.set(CURLOPT_COPYPOSTFIELDS, fill(body)) }
            } catch {
                op.outcome = .fail
                return false
            }
            switch curl.perform() {
            case .failure:
                op.endpoint = host
                op.outcome = spec.method == "GET" ? .fail : .unknown
                return false
            case .success(let code):
                op.endpoint = spec.backendHeader == nil ? host : curl.captured ?? "-"
                op.outcome = (200..<300).contains(code) ? .ok : .fail
                return true
            }
        }
    }

    func connect(client: Int) -> (any WorkloadSession)? { try? Session(spec, timeout: timeout) }

    func operation(client: Int, n: Int, random: inout SplitMix) -> (History.Kind, key: String, value: String) {
        guard let keys = spec.keys else { return (.write, "", "c\(client)-\(n)") }
        return (.write, "k\(random.next() % UInt64(keys))", "c\(client)-\(n)")
    }

    func finalRead(into h: inout History) {
        var reads: [String: [String]] = [:]
        for url in spec.replicas {
            guard let c = try? CurlEasy(), (try? c.set(CURLOPT_URL, url)) != nil, (try? c.set(CURLOPT_TIMEOUT_MS, 5_000)) != nil,
                case .success(let code) = c.perform(), (200..<300).contains(code)
            else { continue }
            reads[url] = String(decoding: c.responseBody, as: UTF8.self).split(separator: "\n").map(String.init)
        }
        h.finalReads = reads
        h.finalPrimary = spec.replicas.first { reads[$0] != nil }
    }
}
