import FaultlineCore
import Foundation

/// Redis as a set (`RPUSH` of unique values) or as registers (`SET`/`GET`), at the primary a
/// Sentinel names. Client i asks the Sentinels starting with the i-th, as clients spread over
/// several sites would; a cut-off client then follows its own side's Sentinel. Like the
/// Sentinel-aware clients Redis describes, a client asks again every 500 ms (and after any
/// error) and moves when the answer changes, even while its old connection still works.
struct RedisDriver: WorkloadDriver {
    let spec: RedisWorkload
    let timeout: Int64

    static let recheck: Int64 = 500_000_000

    final class Session: WorkloadSession {
        var client: RedisClient
        let driver: RedisDriver
        let index: Int
        var checkedAt = MonotonicClock.now()
        var spec: RedisWorkload { driver.spec }

        init(_ client: RedisClient, driver: RedisDriver, index: Int) {
            self.client = client
            self.driver = driver
            self.index = index
        }

        func perform(_ op: inout History.Op) -> Bool {
            if spec.address == nil, MonotonicClock.now() - checkedAt > RedisDriver.recheck {
                checkedAt = MonotonicClock.now()
                if let p = driver.primary(startingAt: index), p != client.endpoint {
                    guard let c = try? RedisClient(p, timeout: driver.timeout) else { return false }
                    client = c
                }
            }
            op.endpoint = client.endpoint
            let command: [String]
            switch (spec.mode, op.kind) {
            case (.set, _): command = ["RPUSH", spec.key, op.value]
            case (.register, .write): command = ["SET", op.key, op.value]
            case (.register, .read): command = ["GET", op.key]
            }
            do throws(RedisClient.Failure) {
                switch try client.call(command) {
                case .integer, .status:
                    op.outcome = .ok
                    return true
                case .bulk(let v):
                    op.outcome = .ok
                    op.value = v ?? ""
                    return true
                default:
                    // An error reply (READONLY, LOADING, …): the write was not applied.
                    op.outcome = .fail
                    return false
                }
            } catch {
                op.outcome = op.kind == .read ? .fail : .unknown
                return false
            }
        }
    }

    func connect(client: Int) -> (any WorkloadSession)? {
        guard let endpoint = primary(startingAt: client) else { return nil }
        return (try? RedisClient(endpoint, timeout: timeout)).map { Session($0, driver: self, index: client) }
    }

    func operation(client: Int, n: Int, random: inout SplitMix) -> (History.Kind, key: String, value: String) {
        guard spec.mode == .register else { return (.write, spec.key, "c\(client)-\(n)") }
        return registerOperation(
            client: client, n: n, random: &random, prefix: "\(spec.key):", keys: spec.keys, readShare: spec.readShare)
    }

    /// The fixed address, or the first Sentinel (from the `start`-th on) that names a primary.
    func primary(startingAt start: Int = 0) -> String? {
        if let a = spec.address { return a }
        let n = spec.sentinels.count
        for i in 0..<n {
            let s = spec.sentinels[(start + i) % n]
            guard let sentinel = try? RedisClient(s, timeout: timeout),
                case .array(let parts)? = try? sentinel.call(["SENTINEL", "get-master-addr-by-name", spec.master]),
                parts.count == 2, case .bulk(let host?) = parts[0], case .bulk(let port?) = parts[1]
            else { continue }
            return "\(host):\(port)"
        }
        return nil
    }

    func finalRead(into h: inout History) {
        var reads: [String: [String]] = [:]
        for r in spec.replicas {
            // Registers are read as "key=value" pairs, so replicas compare as sets of pairs.
            let keys = (0..<spec.keys).map { "\(spec.key):\($0)" }
            let command = spec.mode == .set ? ["LRANGE", spec.key, "0", "-1"] : ["MGET"] + keys
            guard let c = try? RedisClient(r, timeout: 2_000_000_000), case .array(let items)? = try? c.call(command) else { continue }
            reads[r] = items.enumerated().compactMap { i, item in
                guard case .bulk(let v?) = item else { return nil }
                return spec.mode == .set ? v : "\(keys[i])=\(v)"
            }
        }
        h.finalReads = reads
        h.finalPrimary = primary()
    }
}
