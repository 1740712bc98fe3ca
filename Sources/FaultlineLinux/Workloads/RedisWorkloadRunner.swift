import FaultlineCore
import Foundation

/// Writes unique values with `RPUSH` at a rate from `concurrency` clients, following the
/// primary Sentinel names, and records every operation's outcome.
final class RedisWorkloadRunner: @unchecked Sendable {
    let spec: WorkloadSpec
    let origin: Int64
    private let history = Locked(History())
    private let stopping = Locked(false)
    private let group = DispatchGroup()

    init(_ spec: WorkloadSpec, origin: Int64) {
        self.spec = spec
        self.origin = origin
    }

    func start(at first: Int64) {
        let interval = Int64(1e9 / spec.rate.perSecond) * Int64(spec.concurrency)
        for client in 0..<spec.concurrency {
            group.enter()
            let offset = Int64(client) * interval / Int64(spec.concurrency)
            Thread { [self] in
                self.run(client: client, first: first + offset, interval: interval)
                self.group.leave()
            }.start()
        }
    }

    /// Stops the writers and returns what they did.
    func stop() -> History {
        stopping.mutate { $0 = true }
        group.wait()
        return history.value
    }

    private func run(client: Int, first: Int64, interval: Int64) {
        var connection: RedisClient?
        var next = first
        var n = 0
        while !stopping.value {
            MonotonicClock.sleep(until: next)
            next += interval
            if MonotonicClock.now() > next { next += ((MonotonicClock.now() - next) / interval + 1) * interval }
            n += 1
            let value = "c\(client)-\(n)"
            if connection == nil { connection = primary() }
            let invoked = MonotonicClock.now() - origin
            guard let c = connection else {
                record(
                    History.Op(
                        client: client, value: value, invokedAt: invoked, completedAt: MonotonicClock.now() - origin, outcome: .fail,
                        endpoint: "-"))
                continue
            }
            let outcome: History.Outcome
            do throws(RedisClient.Failure) {
                switch try c.call(["RPUSH", spec.redis.key, value]) {
                case .integer: outcome = .ok
                default:
                    // An error reply (READONLY, LOADING, …) means the write was not applied.
                    outcome = .fail
                    connection = nil
                }
            } catch {
                outcome = .unknown
                connection = nil
            }
            record(
                History.Op(
                    client: client, value: value, invokedAt: invoked, completedAt: MonotonicClock.now() - origin, outcome: outcome,
                    endpoint: c.endpoint))
        }
    }

    private func record(_ op: History.Op) { history.mutate { $0.writes.append(op) } }

    /// A connection to the primary: the fixed address, or the first Sentinel that names one.
    func primary() -> RedisClient? {
        guard let endpoint = Self.resolvePrimary(spec) else { return nil }
        return try? RedisClient(endpoint, timeout: spec.timeout)
    }

    static func resolvePrimary(_ spec: WorkloadSpec) -> String? {
        if let a = spec.redis.address { return a }
        for s in spec.redis.sentinels {
            guard let sentinel = try? RedisClient(s, timeout: spec.timeout),
                case .array(let parts)? = try? sentinel.call(["SENTINEL", "get-master-addr-by-name", spec.redis.master]),
                parts.count == 2, case .bulk(let host?) = parts[0], case .bulk(let port?) = parts[1]
            else { continue }
            return "\(host):\(port)"
        }
        return nil
    }

    /// Reads every replica until they agree with the primary or `convergeWithin` ends.
    static func finalRead(_ spec: WorkloadSpec, into h: inout History) {
        let deadline = MonotonicClock.now() + spec.convergeWithin
        while true {
            var reads: [String: [String]] = [:]
            for r in spec.redis.replicas {
                guard let c = try? RedisClient(r, timeout: 2_000_000_000),
                    case .array(let items)? = try? c.call(["LRANGE", spec.redis.key, "0", "-1"])
                else {
                    continue
                }
                reads[r] = items.compactMap { if case .bulk(let v?) = $0 { return v } else { return nil } }
            }
            h.finalReads = reads
            h.finalPrimary = resolvePrimary(spec)
            let states = Set(reads.values.map { Set($0) })
            if states.count == 1, reads.count == spec.redis.replicas.count { return }
            if MonotonicClock.now() > deadline { return }
            usleep(200_000)
        }
    }
}
