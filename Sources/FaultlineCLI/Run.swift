import ArgumentParser
import FaultlineCore
import FaultlineLinux
import Foundation
import Glibc

struct Run: ParsableCommand {
    // Every command names itself: otherwise ArgumentParser derives the name from the type's
    // name with String(describing:), whose runtime type lookups cost each start about 1 ms.
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an experiment: verify steady state, inject faults, revert, judge, report.",
        discussion: "Exit codes: \(FaultlineCore.ExitCode.help)")

    @Argument(help: "Experiment file (YAML or JSON).")
    var file: String

    @Flag(help: "Print the resolved plan and exit without touching anything.")
    var dryRun = false

    @Option(help: "Folder for reports: <out>/<run-id>/ and <out>/latest.")
    var out = "reports"

    @Option(help: "Reports to write beside journal.json, comma-separated or repeated: html, md, junit, prom, annotations (default: all).")
    var format: [String] = []

    @OptionGroup var state: StateOptions

    @OptionGroup var labOptions: LabOptions

    @Flag(help: "Leave a lab this run brought up running afterwards.")
    var keepLab = false

    @Flag(help: "Print only the summary.")
    var quiet = false

    @Option(
        name: .customLong("halt-file"),
        help: "Stop when this file appears, and refuse to start while it exists (repeatable; also \(Halt.environmentVariable)).")
    var haltFiles: [String] = []

    func run() throws {
        let experiment = try loadOrExit(file, labDataRoot: labOptions.labDir)
        if dryRun {
            print(Plan(experiment).render(notes: MatchesNow.notes(experiment)), terminator: "")
            return
        }
        let formats = try formatsOrExit(format)
        if let problem = ReportFiles.problem(root: out) {
            Output.stderr("faultline: --out: \(ShownText.controlsEscaped(problem)); nothing was run\n")
            throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.badInput)
        }
        let console = Console()
        console.quiet = quiet
        var options = Runner.Options()
        options.stateDirectory = state.stateDir
        options.labDataRoot = labOptions.labDir
        options.keepLab = keepLab
        // The lab's logs are staged beside the reports and moved into the run's folder with them.
        options.logsDirectory = "\(out)/.logs-\(options.runId)"
        options.haltFiles = haltFiles + (ProcessInfo.processInfo.environment[Halt.environmentVariable].map { [$0] } ?? [])
        let view = console.isTTY ? LiveRunView(console: console) : PlainRunView(console: console)
        let journal = Runner(experiment, options: options, observer: view).run()
        let dir: String
        do {
            dir = try ReportFiles.write(journal, root: out, formats: formats, logs: options.logsDirectory)
        } catch {
            console.error("faultline: write reports under '\(out)': \(error)")
            throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.internalError)
        }
        printSummary(journal, dir: dir, console: console, markdown: formats.contains(.md))
        if let problem = ReportFiles.appendStepSummary(journal, environment: ProcessInfo.processInfo.environment) {
            console.error("faultline: \(problem)")
        }
        // The run is over and written down. A normal exit would now run the destructors of the
        // ~35 libraries libcurl brought in (OpenSSL, GnuTLS, Kerberos, ...), which only free
        // memory the kernel reclaims anyway: 0.7 ms of every run (BENCHMARKS.md).
        fflush(nil)
        _exit(journal.exitCode)
    }

    func printSummary(_ j: Journal, dir: String, console: Console, markdown: Bool) {
        let colour = j.verdict == .passed ? "green" : j.verdict == .failed ? "red" : "yellow"
        let safe = ShownText.controlsEscaped
        var lines = [
            "",
            console.style("verdict: \(j.verdict.rawValue.uppercased())", colour)
                + " — \(ShownText.escaped(j.experiment.title, limit: 200))",
        ]
        for c in j.checks {
            let mark = c.passed ? console.style("pass", "green") : console.style("FAIL", "red")
            lines.append("  \(mark)  \(safe(c.name)): expected \(safe(c.expected)), measured \(safe(c.measured))")
            // A failure's evidence belongs where a CI log shows it, not only in report.md.
            if !c.passed, let e = c.evidence, !e.isEmpty { lines.append("        evidence: \(ShownText.escaped(e, limit: 400))") }
        }
        for r in j.reasons { lines.append("  note: \(safe(r))") }
        for r in j.residue { lines.append(console.style("  residue: \(safe(r))", "red")) }
        lines.append(markdown ? "report: \(dir)/report.md" : "journal: \(dir)/journal.json")
        console.quiet = false
        lines.forEach(console.line)
    }
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract:
            "Re-render report.html, report.md, junit.xml, metrics.prom and annotations.json from a journal, without touching any host.",
        discussion:
            "Exit codes: 0 rendered · 64 the journal cannot be read or is not a faultline journal · 70 the reports cannot be written.")

    @Argument(help: "Path to a journal.json.")
    var journal: String

    @Option(help: "Reports to render, comma-separated or repeated: html, md, junit, prom, annotations (default: all).")
    var format: [String] = []

    func run() throws {
        let formats = try formatsOrExit(format)
        let shown = ShownText.controlsEscaped(journal)
        let j: Journal
        switch readJournal(journal) {
        case .success(let read): j = read
        case .failure(let why):
            Output.stderr("\(shown): \(why)\n")
            throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.badInput)
        }
        let dir = (journal as NSString).deletingLastPathComponent
        do {
            try ReportFiles.render(j, into: dir.isEmpty ? "." : dir, formats: formats)
        } catch {
            Output.stderr("faultline report: cannot write the reports next to \(shown): \(error)\n")
            throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.internalError)
        }
        let files = formats.map(\.file)
        let named = files.count > 1 ? files.dropLast().joined(separator: ", ") + " and " + files.last! : files.joined()
        Output.line("rendered \(named) in \(dir.isEmpty ? "." : dir) (verdict \(j.verdict.rawValue))")
    }
}

/// Why a journal could not be read, in words for stderr.
struct JournalUnreadable: Error, CustomStringConvertible {
    let description: String
}

/// The journal at `path` (`report`, `history`): bounded, a regular file, and a faultline journal.
func readJournal(_ path: String) -> Result<Journal, JournalUnreadable> {
    switch InputFile.read(path, maxBytes: Journal.maxBytes) {
    case .failure(let p): return .failure(JournalUnreadable(description: "\(p)"))
    case .success(let data):
        do {
            return .success(try Journal.decode(Data(data)))
        } catch {
            return .failure(JournalUnreadable(description: "not a faultline journal: \(ShownText.escaped("\(error)", limit: 300))"))
        }
    }
}

struct Recover: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Replay pending undo steps from ledgers left by runs that did not finish (with --all: also inside lab hosts).",
        discussion: "Exit codes: 0 nothing left pending · 4 something could not be reverted · 64 bad input.")

    @Flag(help: "Recover every run with a ledger in the state directory.")
    var all = false

    @Option(name: .customLong("run"), help: "Recover this run only.")
    var runId: String?

    @Flag(help: "Also recover runs whose agent still looks alive.")
    var force = false

    @OptionGroup var state: StateOptions

    @OptionGroup var labOptions: LabOptions

    @Option(help: "An experiment file: also recover on its ssh hosts, whose ledgers live on each host.")
    var hosts: String?

    func validate() throws {
        guard all != (runId != nil) else { throw ValidationError("give exactly one of --all or --run ID") }
    }

    func run() throws {
        var outcome = Recovery.recover(directory: state.stateDir, runId: runId, force: force)
        if all {
            // Lab hosts keep their ledgers inside the host; reconcile those too.
            let labs = Recovery.recoverLabs(labDataRoot: labOptions.labDir, executable: Runner.selfPath, force: force)
            outcome.lines += labs.lines
            outcome.failures += labs.failures
            // A killed runner's ssh control directory (and masters that outlived it).
            let ssh = Recovery.sweepSSHDirectories(state.stateDir, force: force)
            outcome.lines += ssh.lines
            outcome.failures += ssh.failures
            for id in Halt.pruneMarkers(stateDirectory: state.stateDir) {
                outcome.lines.append("removed the marker of run \(id), whose runner is gone")
            }
        }
        if let hosts {
            let e = try loadOrExit(hosts, labDataRoot: labOptions.labDir)
            let remote = RemoteRecovery.recover(e.hosts, executable: Runner.selfPath, runId: runId, force: force)
            outcome.lines += remote.lines
            outcome.failures += remote.failures
        }
        for line in outcome.lines { Output.line(line) }
        if outcome.failures > 0 { throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.residue) }
    }
}

struct Agent: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run faults on this host for one run, speaking JSON lines on stdin/stdout.",
        discussion: """
            Started by 'faultline run' (locally, or inside a lab host). It keeps the host's ledger \
            and a lease: if the lease lapses or stdin closes, it reverts everything it holds and exits.
            """)

    @Option(name: .customLong("run"), help: "The run this agent serves (names its ledger).")
    var runId: String

    @OptionGroup var state: StateOptions

    @Flag(help: "Running inside a lab host's own PID namespace: also compare stopped processes.")
    var ownPidNamespace = false

    func run() throws {
        let code = AgentServer(runId: runId, stateDirectory: state.stateDir, ownPIDNamespace: ownPidNamespace).serve()
        if code != 0 { throw ArgumentParser.ExitCode(code) }
    }
}

/// The formats `--format` names, or exit 64 naming the word that is not one and the valid ones.
func formatsOrExit(_ lists: [String]) throws -> [ReportFormat] {
    switch ReportFormat.parse(lists) {
    case .success(let f): return f
    case .failure(let e):
        Output.stderr("faultline: --format: \(e); nothing was run\n")
        throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.badInput)
    }
}
