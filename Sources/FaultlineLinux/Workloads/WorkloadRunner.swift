import FaultlineCore
import Foundation

/// One client's connection to the system under test. Not shared between threads.
protocol WorkloadSession: AnyObject {
    /// Performs `op` (its kind, key and value are set; a read fills in the value it got) and
    /// sets its outcome and endpoint. Returns false when the session must be dropped.
    func perform(_ op: inout History.Op) -> Bool
}

/// What a workload kind must provide: connections, the operation mix and the final read.
protocol WorkloadDriver: Sendable {
    /// Work before the first operation (e.g. creating a table); an error text aborts the run.
    func prepare() -> String?
    /// A session for `client`, or nil when no endpoint answers now (the operation fails).
    func connect(client: Int) -> (any WorkloadSession)?
    /// The operation a client issues next; values are unique across the run.
    func operation(client: Int, n: Int, random: inout SplitMix) -> (History.Kind, key: String, value: String)
    /// Every replica's state, read once; `h.finalReads` and `h.finalPrimary` are filled in.
    func finalRead(into h: inout History)
}

extension WorkloadDriver {
    func prepare() -> String? { nil }
    func operation(client: Int, n: Int, random: inout SplitMix) -> (History.Kind, key: String, value: String) {
        (.write, "", "c\(client)-\(n)")
    }
}

/// Issues operations at a rate from `concurrency` clients, each on its own thread with
/// absolute deadlines, and records every one with its invocation and completion instants.
public final class WorkloadRunner: @unchecked Sendable {
    let spec: WorkloadSpec
    let driver: any WorkloadDriver
    let origin: Int64
    private let history = Locked(History())
    private let stopping = Locked(false)
    private let group = DispatchGroup()
    /// Sees every operation as it completes (the brake's monitor), on the client's thread.
    let brake: StopMonitor?

    public init(_ spec: WorkloadSpec, origin: Int64, brake: StopMonitor? = nil) {
        self.spec = spec
        self.origin = origin
        self.brake = brake.flatMap { $0.probes.contains(ProbeSeries.workloadName) ? $0 : nil }
        switch spec.client {
        case .redis(let r): driver = RedisDriver(spec: r, timeout: spec.timeout)
        case .postgres(let p): driver = PostgresDriver(spec: p, timeout: spec.timeout)
        case .http(let h): driver = HTTPDriver(spec: h, timeout: spec.timeout)
        case .command(let c): driver = CommandDriver(spec: c, timeout: spec.timeout)
        case .etcd(let e): driver = EtcdDriver(spec: e, timeout: spec.timeout)
        }
    }

    public func prepare() -> String? { driver.prepare() }

    public func start(at first: Int64) {
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

    /// Stops the clients and returns what they did.
    public func stop() -> History {
        stopping.mutate { $0 = true }
        group.wait()
        return history.value
    }

    /// Reads every replica until they agree or `convergeWithin` ends.
    func finalRead(into h: inout History) {
        let deadline = MonotonicClock.now() + spec.convergeWithin
        while true {
            driver.finalRead(into: &h)
            h.unreadReplicas = spec.replicas.filter { h.finalReads[$0] == nil }
            let states = Set(h.finalReads.values.map { Set($0) })
            if states.count <= 1, h.finalReads.count == spec.replicas.count { return }
            if MonotonicClock.now() > deadline { return }
            usleep(200_000)
        }
    }

    private func run(client: Int, first: Int64, interval: Int64) {
        var session: (any WorkloadSession)?
        var ops: [History.Op] = []
        ops.reserveCapacity(min(Int(spec.rate.perSecond) * 16 / spec.concurrency, 1 << 20))
        var random = SplitMix(UInt64(client + 1))
        var next = first
        var n = 0
        while !stopping.value {
            MonotonicClock.sleep(until: next)
            next += interval
            let now = MonotonicClock.now()
            if now > next { next += ((now - next) / interval + 1) * interval }
            n += 1
            let (kind, key, value) = driver.operation(client: client, n: n, random: &random)
            if session == nil { session = driver.connect(client: client) }
            var op = History.Op(
                client: client, kind: kind, key: key, value: value, invokedAt: MonotonicClock.now() - origin, completedAt: 0,
                outcome: .fail, endpoint: "-")
            if let s = session, !s.perform(&op) { session = nil }
            op.completedAt = MonotonicClock.now() - origin
            ops.append(op)
            brake?.observe(
                probe: ProbeSeries.workloadName, kind: "workload", interval: nil, started: op.invokedAt,
                latency: op.completedAt - op.invokedAt,
                ok: op.outcome == .ok, reason: op.outcome == .ok ? nil : "\(op.kind.rawValue) \(op.outcome.rawValue)", value: nil)
        }
        history.mutate { $0.ops += ops }
    }
}

/// A register workload's next operation: a key `prefix<0..<keys>` and, with probability
/// `readShare`, a read of it; otherwise a write of the unique value.
func registerOperation(
    client: Int, n: Int, random: inout SplitMix, prefix: String, keys: Int, readShare: Double
) -> (History.Kind, key: String, value: String) {
    let r = random.next()
    let key = "\(prefix)\(r % UInt64(keys))"
    let read = Double(r >> 11) / Double(1 << 53) < readShare
    return read ? (.read, key, "") : (.write, key, "c\(client)-\(n)")
}
