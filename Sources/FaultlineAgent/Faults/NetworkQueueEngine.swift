import FaultlineEssentials
import FoundationEssentials
import Glibc

/// The queue engine on one host: faultline's own nf_tables table sends the selected packets to
/// an NFQUEUE that this process's delay line serves. The table is owned by a netlink socket held here, so it lives exactly as long
/// as this engine — or this process.
package final class NetworkQueueEngine: @unchecked Sendable {
    let table: NftQueueTable
    let shaping: Shaping
    /// The socket that created (and owns) the table.
    private let owner: NetlinkSocket
    private let line: NetworkDelayLine
    let queueNumber: UInt16

    /// Running engines by table name, so that an undo step executed in this process finds the
    /// one to stop; an engine of a process that died is gone with it.
    nonisolated(unsafe) static var running: [String: NetworkQueueEngine] = [:]
    static let lock = Lock()

    /// Binds a queue (the first free number from `queueBase`), starts the delay line, then creates
    /// the table: by the time a packet is queued, something serves the queue.
    /// Binds a queue (the first free number from `queueBase`), starts the delay line, then creates
    /// the table: by the time a packet is queued, something serves the queue. Every effect —
    /// loss included — is the delay line's: a drop in the output hook would fail the sender's
    /// syscall (EPERM), which real loss never does, and the line's counters confirm the loss.
    package init(
        tableName: String, rules: (NftQueueTable.Action) -> [NftQueueTable.Rule], shaping: Shaping, queueBase: UInt16, seed: UInt64
    )
        throws(FaultError)
    {
        self.shaping = shaping
        do {
            owner = try NetlinkSocket(protocol: NetlinkSocket.netfilter)
        } catch {
            throw FaultError.system("\(error)")
        }
        var bound: NfQueue?
        var lastError = ""
        for k in 0..<32 {
            let number = UInt16(1_000 + (Int(queueBase) + k * 7_919) % 60_000)
            do {
                bound = try NfQueue(number: number, copy: shaping.corrupt != nil)
                break
            } catch {
                lastError = "\(error)"
            }
        }
        guard let queue = bound else { throw FaultError.system("no free NFQUEUE: \(lastError)") }
        queueNumber = queue.number
        line = NetworkDelayLine(queue: queue, shaping: shaping, seed: seed)
        table = NftQueueTable(name: tableName, rules: rules(.queue(number: queue.number)))
        line.start()
        let (batch, acks) = table.createBatch(socket: owner)
        do {
            try owner.transact(batch, acks: acks, what: "create nft table ip \(tableName)")
        } catch {
            _ = line.stop()
            throw FaultError.system("\(error)")
        }
        Self.lock.lock()
        Self.running[tableName] = self
        Self.lock.unlock()
    }

    /// Deletes the rules (nothing new is queued), releases every held packet, then deletes the
    /// table. In that order: deleting the table unregisters its hooks, and the kernel drops the
    /// packets still queued from them — a delay's worth of traffic lost at every revert.
    package func stop() -> NetworkDelayLine.Stats {
        Self.lock.lock()
        Self.running[table.name] = nil
        Self.lock.unlock()
        let (flush, flushAcks) = table.flushBatch(socket: owner)
        try? owner.transact(flush, acks: flushAcks, what: "delete the rules of nft table ip \(table.name)")
        let stats = line.stop()
        let (batch, acks) = table.deleteBatch(socket: owner)
        try? owner.transact(batch, acks: acks, what: "delete nft table ip \(table.name)")
        return stats
    }

    var stats: NetworkDelayLine.Stats { line.snapshot }

    /// Stops the engine of `table` running in this process; false when there is none.
    static func stop(table: String) -> Bool {
        lock.lock()
        let engine = running[table]
        lock.unlock()
        guard let engine else { return false }
        _ = engine.stop()
        return true
    }

    static func find(table: String) -> NetworkQueueEngine? {
        lock.lock()
        defer { lock.unlock() }
        return running[table]
    }
}

/// The queue engine started on its own, for the benchmark (bench/queue-engine.sh): a delay for
/// UDP leaving the namespace at `namespace` toward `peer:port`.
public final class QueueEngineSession: @unchecked Sendable {
    public struct Result: Sendable {
        public var received: Int
        public var late: Int
        public var overflows: Int
        /// How long packets were held, and how late they were released, sorted (nanoseconds).
        public var held: [Nanos]
        public var lateness: [Nanos]
        /// The delay line thread's CPU time.
        public var cpu: Nanos
        public var realtime: Bool
    }

    private let engine: NetworkQueueEngine

    public init(namespace: String, peer: String, port: UInt16, delay: Nanos) throws {
        guard let subnet = IPv4Subnet("\(peer)/32") else { throw FaultError.target("not an address: \(peer)") }
        var s = Shaping()
        s.delay = delay
        engine = try NetworkNamespace.run(namespace) {
            try NetworkQueueEngine(
                tableName: "faultline_bench_q",
                rules: { [NftQueueTable.Rule(hook: .output, peer: subnet, proto: 17, port: port, action: $0)] },
                shaping: s, queueBase: 4_242, seed: 1)
        }
    }

    public func stop() -> Result? {
        let s = engine.stop()
        return Result(
            received: s.received, late: s.late, overflows: s.overflows, held: s.held.sorted(), lateness: s.lateness.sorted(), cpu: s.cpu,
            realtime: s.realtime)
    }

    /// Runs `body` with the calling thread in the namespace at `path` (sockets made there stay).
    public static func inNamespace<T>(_ path: String, _ body: () throws -> T) throws -> T { try NetworkNamespace.run(path, body) }
}
