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

    init(_ spec: RedisWorkload, timeout: Int64) {
        self.spec = spec
        self.timeout = timeout
    }

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

    func operation(client: Int, n: Int, random: inout UInt64) -> (History.Kind, key: String, value: String) {
        let value = "c\(client)-\(n)"
        guard spec.mode == .register else { return (.write, spec.key, value) }
        let r = nextRandom(&random)
        let key = "\(spec.key):\(r % UInt64(spec.keys))"
        let read = Double(r >> 11) / Double(1 << 53) < spec.readShare
        return read ? (.read, key, "") : (.write, key, value)
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
            guard let c = try? RedisClient(r, timeout: 2_000_000_000) else { continue }
            let reply: RedisClient.Reply?
            if spec.mode == .set {
                reply = try? c.call(["LRANGE", spec.key, "0", "-1"])
            } else {
                // Registers: "key=value" for every key, so replicas compare as sets of pairs.
                let keys = (0..<spec.keys).map { "\(spec.key):\($0)" }
                reply = (try? c.call(["MGET"] + keys)).map { r in
                    guard case .array(let items) = r else { return r }
                    return .array(
                        zip(keys, items).map { k, v in
                            if case .bulk(let s?) = v { return .bulk("\(k)=\(s)") } else { return .bulk(nil) }
                        })
                }
            }
            guard case .array(let items)? = reply else { continue }
            reads[r] = items.compactMap { if case .bulk(let v?) = $0 { return v } else { return nil } }
        }
        h.finalReads = reads
        h.finalPrimary = primary()
    }
}
