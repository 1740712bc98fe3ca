internal import CCurl
import FaultlineCore
import Foundation

/// Registers in etcd through the v3 JSON gateway of its client port: `POST /v3/kv/put` and
/// `POST /v3/kv/range` (linearizable: the member confirms it is current with the leader before
/// answering; or, with `serializable`, from its own copy), keys and values base64 as the
/// gateway wants them.
///
/// Outcomes, as Jepsen's etcd client has them: a put etcd answered is `ok`; a put that got an
/// error or no answer is `unknown` (a proposal that timed out, or was cut off by a leader
/// change, may still commit); a range that got no value is `fail`. Each client sends its
/// requests to the endpoints in turn (client i starts at the i-th), as the round-robin balancer
/// of etcd's Go client does, so a cut-off member keeps getting its share.
struct EtcdDriver: WorkloadDriver {
    let spec: EtcdWorkload
    let timeout: Int64

    final class Session: WorkloadSession {
        let curl: CurlEasy
        let spec: EtcdWorkload
        var index: Int

        init(_ spec: EtcdWorkload, timeout: Int64, start: Int) throws(ProbeError) {
            self.spec = spec
            index = start % spec.endpoints.count
            curl = try CurlEasy()
            try curl.set(CURLOPT_TIMEOUT_MS, Int(timeout / 1_000_000))
            try curl.set(CURLOPT_CONNECTTIMEOUT_MS, Int(timeout / 1_000_000))
            try curl.setHeaders(["Content-Type: application/json"])
        }

        var endpoint: String { spec.endpoints[index] }

        func perform(_ op: inout History.Op) -> Bool {
            op.endpoint = endpoint
            let isWrite = op.kind == .write
            let body =
                isWrite
                ? #"{"key":"\#(EtcdDriver.base64(op.key))","value":"\#(EtcdDriver.base64(op.value))"}"#  // check-kinds: field
                : #"{"key":"\#(EtcdDriver.base64(op.key))","serializable":\#(spec.serializable)}"#
            let answer = EtcdDriver.post(curl, endpoint, isWrite ? "put" : "range", body)
            index = (index + 1) % spec.endpoints.count
            guard let answer else {
                op.outcome = isWrite ? .unknown : .fail
                return true
            }
            op.outcome = .ok
            if !isWrite { op.value = answer.value ?? "" }
            return true
        }
    }

    func connect(client: Int) -> (any WorkloadSession)? { try? Session(spec, timeout: timeout, start: client) }

    func operation(client: Int, n: Int, random: inout SplitMix) -> (History.Kind, key: String, value: String) {
        registerOperation(client: client, n: n, random: &random, prefix: spec.key, keys: spec.keys, readShare: spec.readShare)
    }

    /// Each member's own copy (a serializable range over the key prefix, answered locally),
    /// as `key=value` pairs.
    func finalRead(into h: inout History) {
        var reads: [String: [String]] = [:]
        guard let curl = try? CurlEasy(), (try? curl.set(CURLOPT_TIMEOUT_MS, 2_000)) != nil,
            (try? curl.setHeaders(["Content-Type: application/json"])) != nil
        else { return }
        let end = Self.prefixEnd(spec.key)
        for e in spec.endpoints {
            let body = #"{"key":"\#(Self.base64(spec.key))","range_end":"\#(Self.base64(end))","serializable":true}"#
            guard let answer = Self.post(curl, e, "range", body) else { continue }
            reads[e] = answer.pairs.map { "\($0.key)=\($0.value)" }.sorted()
        }
        h.finalReads = reads
        h.finalPrimary = spec.endpoints.first { reads[$0] != nil }
    }

    /// What a gateway call answered: nil for a transport error, a non-2xx status or an error
    /// body; else the first key's value (nil when absent) and every key-value pair.
    struct Answer {
        var value: String?
        var pairs: [(key: String, value: String)]
    }

    static func post(_ curl: CurlEasy, _ endpoint: String, _ call: String, _ body: String) -> Answer? {
        guard (try? curl.set(CURLOPT_URL, "http://\(endpoint)/v3/kv/\(call)")) != nil,
            (try? curl.set(CURLOPT_COPYPOSTFIELDS, body)) != nil,
            case .success(let code) = curl.perform(), (200..<300).contains(code)
        else { return nil }
        return decode(curl.responseBody)
    }

    /// The gateway's JSON: `{"header":…, "kvs":[{"key":b64,"value":b64,…}], "count":"n"}`;
    /// an `error` member means the call failed.
    static func decode(_ data: Data) -> Answer? {
        struct KV: Decodable {
            var key: String?
            var value: String?
        }
        struct Response: Decodable {
            var kvs: [KV]?
            var error: String?
        }
        guard let r = try? JSONDecoder().decode(Response.self, from: data), r.error == nil else { return nil }
        let pairs = (r.kvs ?? []).compactMap { kv -> (key: String, value: String)? in
            guard let k = kv.key.flatMap(unbase64) else { return nil }
            return (k, kv.value.flatMap(unbase64) ?? "")
        }
        return Answer(value: pairs.first?.value, pairs: pairs)
    }

    static func base64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }
    static func unbase64(_ s: String) -> String? { Data(base64Encoded: s).map { String(decoding: $0, as: UTF8.self) } }

    /// The end of the range of keys that start with `prefix`: the prefix with its last byte
    /// incremented (etcd's `clientv3.GetPrefixRangeEnd`).
    static func prefixEnd(_ prefix: String) -> String {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return String(decoding: bytes, as: UTF8.self)
            }
            bytes.removeLast()
        }
        return "\0"
    }
}
