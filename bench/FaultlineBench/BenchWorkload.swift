import ArgumentParser
import FaultlineCore
import FaultlineLinux
import Foundation
import Glibc

/// Benchmark: how many operations a workload issues and records per second against a Redis
/// on loopback, unthrottled, and what recording them costs in memory.
struct BenchWorkload: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workload", abstract: "Workload operations per second against Redis.")

    @Option(help: "The Redis to write to (host:port).") var redis = "127.0.0.1:6379"
    @Option(help: "Concurrent clients.") var concurrency = 1
    @Option(help: "How long to write, in seconds.") var seconds = 3.0

    func run() {
        var spec = WorkloadSpec(
            client: .redis(RedisWorkload(address: redis, key: "faultline:bench", replicas: [redis])),
            rate: Rate(perSecond: 10_000_000), concurrency: concurrency, timeout: 2_000_000_000)
        spec.convergeWithin = 0
        let before = BenchCheckers.residentKiB()
        let origin = MonotonicClock.now()
        let w = WorkloadRunner(spec, origin: origin)
        w.start(at: origin)
        usleep(UInt32(seconds * 1e6))
        let h = w.stop()
        let took = Double(MonotonicClock.now() - origin) / 1e9
        let after = BenchCheckers.residentKiB()
        let ok = h.ops.filter { $0.outcome == .ok }.count
        print(
            String(
                format: "workload redis RPUSH, %d client(s): %.0f ops/s (%d ok of %d in %.2f s); RSS +%.1f MiB (%.0f bytes/op recorded)",
                concurrency, Double(h.ops.count) / took, ok, h.ops.count, took, Double(after - before) / 1024,
                Double(after - before) * 1024 / Double(max(1, h.ops.count))))
    }
}
