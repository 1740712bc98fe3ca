import ArgumentParser
import FaultlineCore
import FaultlineLinux
import Foundation

/// `faultline-bench`: the measurements bench/*.sh make of faultline's own code, kept out of
/// the product's command line.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faultline-bench", abstract: "Benchmarks of faultline's probes, checkers and workloads (used by bench/*.sh).",
        subcommands: [ProbeRateCommand.self, BenchCheckers.self, BenchWorkload.self, TCPBench.self, QueueEngineBench.self])
}

struct ProbeRateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe-rate", abstract: "HTTP probes per second against a URL."
    )

    @Option(help: "The URL to probe.") var url: String
    @Option(help: "Threads, each with its own connection.") var concurrency = 1
    @Option(help: "How long to measure.") var seconds = 2.0

    func run() throws {
        let spec = ProbeSpec(name: "rate", kind: .http(ProbeSpec.HTTP(url: url)))
        do {
            let r = try ProbeRate.measure(spec, concurrency: concurrency, seconds: seconds)
            print(
                String(
                    format: "%.0f probes/s (%d samples, %d failed, %.2f s, concurrency %d)", r.perSecond, r.samples, r.failures, r.seconds,
                    concurrency))
        } catch {
            Output.stderr("faultline: \(error)\n")
            throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.internalError)
        }
    }
}

Bench.main()
