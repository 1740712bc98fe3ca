import ArgumentParser
import FaultlineCore
import FaultlineLinux
import Foundation

struct HostsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hosts", abstract: "Check the hosts an experiment names before a game-day.", subcommands: [HostsCheck.self])
}

/// A table, one row per host: reachable, host key and login, the agent, the kernel features
/// faults use, and whether each planned fault can run there. Exit 2 when one cannot.
struct HostsCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Per host: reachable (host key checked), root or sudo, the agent, kernel features, and each planned fault's preflight.",
        discussion: "Nothing is injected. Exit 0 when every planned fault can run, 2 when one cannot, 64 on bad input.")

    @Argument(help: "Experiment file (YAML or JSON).")
    var file: String

    @Flag(help: "Copy the agent to hosts that lack it (a run would), so their kernels can be checked too.")
    var install = false

    @OptionGroup var state: StateOptions

    func run() throws {
        let experiment = try loadOrExit(file)
        var options = Runner.Options()
        options.stateDirectory = state.stateDir
        let rows = Runner(experiment, options: options, observer: SilentObserver()).checkHosts(install: install)
        let header = ["host", "transport", "reachable", "login", "agent", "kernel", "planned faults"]
        let cells = rows.map { r in
            [r.host, r.transport, r.reachable, r.login, r.agent, r.kernel.joined(separator: ", "), r.faults.joined(separator: "; ")]
                .map { ShownText.controlsEscaped($0.isEmpty ? "-" : $0) }
        }
        let widths = header.indices.map { i in ([header[i]] + cells.map { $0[i] }).map(\.count).max() ?? 0 }
        for line in [header] + cells {
            let text = zip(line, widths).map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
            Output.line(text.replacingOccurrences(of: " +$", with: "", options: .regularExpression))
        }
        let bad = rows.filter { !$0.ok }.map(\.host)
        if !bad.isEmpty {
            Output.line("cannot run as planned on: \(bad.joined(separator: ", "))")
            throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.invalid)
        }
    }
}

/// A run's events, dropped: `hosts check` prints only its table.
final class SilentObserver: RunObserver, @unchecked Sendable {
    var wantsProgress: Bool { false }
    func observe(_ event: RunEvent) {}
}
