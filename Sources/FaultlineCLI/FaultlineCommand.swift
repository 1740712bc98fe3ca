import ArgumentParser
import FaultlineCore
import FaultlineLinux
import Foundation
import Glibc

/// The `faultline` root command.
public struct FaultlineCommand: ParsableCommand {
    /// Work that can start before the arguments are parsed: a `run` almost always builds an
    /// HTTP probe within milliseconds, so libcurl is loaded on another core meanwhile.
    public static func prepare(_ arguments: [String]) {
        // Started inside a lab host through the descriptor its launch opened (`Launch`): the
        // descriptor is this program's own file, and nothing this process starts needs it.
        if arguments.first == SelfCommand.inherited { _ = fcntl(3, F_SETFD, FD_CLOEXEC) }
        if arguments.dropFirst().first == "run" { CurlEasy.preload() }
        // A resource worker an agent started: the agent's own words, not a command of the CLI.
        if arguments.dropFirst().first == "worker" { Glibc.exit(AgentCommand.run(Array(arguments.dropFirst()))) }
    }

    /// Parses the arguments, runs the command and exits with its code, as `main()` does, but
    /// only once the work `prepare` started has settled (`CurlEasy.settle`).
    public static func start() -> Never {
        var failure: (any Error)?
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            failure = error
        }
        CurlEasy.settle()
        exit(withError: failure)
    }

    public static let version = FaultlineVersion.text

    public static let configuration = CommandConfiguration(
        commandName: "faultline",
        abstract: "Inject faults on Linux hosts and verify the guarantees a system claims.",
        discussion: "Exit codes: \(ExitCode.help)",
        version: version,
        subcommands: [
            Run.self, Validate.self, PlanCommand.self, Report.self, Recover.self, LabCommand.self, HostsCommand.self, ListFaults.self,
            ProxyCommand.self, HaltCommand.self, HistoryCommand.self,
            Agent.self,
        ]
    )

    public init() {}
}

/// Options shared by the commands that touch a host's state.
struct StateOptions: ParsableArguments {
    @Option(help: "Where ledgers are kept (one file per run).")
    var stateDir = "/run/faultline"
}

/// Loads experiments, printing every problem as FILE:LINE:COL; exits 64 on bad input.
func loadOrExit(_ path: String, labDataRoot: String = ExperimentLoader.defaultLabDataRoot) throws -> Experiment {
    do {
        return try ExperimentLoader.load(path: path, labDataRoot: labDataRoot)
    } catch let failure as ValidationFailure {
        Output.stderr(failure.description + "\n")
        throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.badInput)
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check experiment files; every problem is printed as FILE:LINE:COL: message.",
        discussion: "Exit codes: 0 all valid · 64 at least one file has problems.")

    @Argument(help: "Experiment files (YAML or JSON).")
    var files: [String]

    func run() throws {
        var bad = 0
        for f in files {
            do {
                let e = try ExperimentLoader.load(path: f)
                Output.line("\(f): ok (\(e.faults.count) fault(s), \(e.probes.count) probe(s), \(e.expectations.count) expectation(s))")
            } catch let failure as ValidationFailure {
                bad += 1
                Output.stderr(failure.description + "\n")
            }
        }
        if bad > 0 { throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.badInput) }
    }
}

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Print the resolved plan of an experiment (what, where, when); touches nothing.")

    @Argument(help: "Experiment file.")
    var file: String

    func run() throws {
        let e = try loadOrExit(file)
        print(Plan(e).render(notes: MatchesNow.notes(e)), terminator: "")
    }
}

struct ListFaults: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-faults", abstract: "List the fault, probe and workload kinds and the expectations.")

    func run() { print(Self.text, terminator: "") }

    /// Fault kinds and expectations come from their registries; each kind describes itself.
    static var text: String {
        var out = "faults:\n"
        for k in FaultKinds.all { out += row(k.key, k.summary) + row("", "keys: \(k.fields.joined(separator: ", "))") }
        out += """
            probes:
              http      request through libcurl; status set, body_contains, body_regex
              tcp       TCP connect to host:port
              command   argv (or shell: script); exit_code, stdout_contains
              process   processes matching a selector are present (min)
              prometheus  an instant PromQL query (url, query): its number recorded each sample
            process selectors: name, pid, pidfile, cmdline (regex), port (listening TCP port)
            workloads:
              redis     RPUSH of unique values (set) or SET/GET of keys (register), Sentinel-aware
              postgres  INSERT of unique rows, or upserts and reads of keys (registers), via libpq
              http      requests via libcurl with {value}/{key}; backend_header names the backend
              command   argv per operation; commands that print each replica's values
            expectations:

            """
        for x in ExpectationKinds.all { out += row(x.key, x.summary) }
        out += "stop conditions (stop_when):\n"
        for x in StopConditionKinds.all { out += row(x.key, x.summary) }
        return out
    }

    static func row(_ key: String, _ summary: String) -> String {
        "  \(key)\(String(repeating: " ", count: max(1, 16 - key.count)))\(summary)\n"
    }
}
