import ArgumentParser
import FaultlineCore
import FaultlineLinux
import Foundation
import Glibc

/// `faultline halt`: the emergency stop, from another terminal (or, through a shared halt file,
/// another host). Runs see the file within 10 ms, revert every fault at once, run their
/// rollbacks and end `aborted`.
struct HaltCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "halt",
        abstract: "Stop running experiments now: every fault reverted at once, rollbacks run, verdict aborted.",
        discussion: """
            --all writes <state-dir>/HALT: every run under the state directory stops, and none starts until \
            'faultline halt --clear'. --run ID stops one run. --file PATH writes a halt file that runs started with \
            '--halt-file PATH' (or \(Halt.environmentVariable)) obey, e.g. on storage a fleet shares. Without --no-wait, \
            waits for the runs under the state directory to end. Exit codes: 0 halted (or cleared) · 2 a run did not \
            end within --wait · 64 bad input (no such run).
            """)

    @Flag(help: "Halt every run under the state directory, and refuse new ones until --clear.")
    var all = false

    @Option(name: .customLong("run"), help: "Halt this run only.")
    var runId: String?

    @Option(help: "Write (or, with --clear, remove) this halt file as well.")
    var file: String?

    @Flag(help: "Remove the halt files instead: runs may start again.")
    var clear = false

    @Option(help: "How long to wait for the halted runs to end.")
    var wait = "30s"

    @Flag(help: "Do not wait for the runs to end.")
    var noWait = false

    @OptionGroup var state: StateOptions

    func run() throws {
        let dir = state.stateDir
        let lever = Halt.leverFile(stateDirectory: dir)
        guard case .success(let timeout) = DurationText.read(wait) else {
            Output.stderr("faultline halt: --wait must be a duration like '30s', got \(ShownText.escaped(wait, limit: 40))\n")
            throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.badInput)
        }
        if clear {
            for p in [lever] + (file.map { [$0] } ?? []) where unlink(p) == 0 { Output.line("removed \(ShownText.controlsEscaped(p))") }
            Output.line("runs may start again under \(ShownText.controlsEscaped(dir))")
            return
        }
        guard all || runId != nil || file != nil else {
            Output.stderr("faultline halt: say what to halt: --all, --run ID or --file PATH\n")
            throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.badInput)
        }
        var live = Halt.liveRuns(stateDirectory: dir)
        var awaited: [String: Int32] = all ? live : [:]
        if let id = runId {
            guard Halt.isRunId(id), let pid = live[id] else {
                Output.stderr(
                    "faultline halt: no run \(ShownText.escaped(id, limit: 64)) is running under \(ShownText.controlsEscaped(dir)) (running: \(live.keys.sorted().joined(separator: ", ")))\n"
                )
                throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.badInput)
            }
            awaited[id] = pid
        }
        var written: [String] = []
        do {
            if all {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                try Halt.write(lever)
                written.append(lever)
            }
            if let id = runId, !all {
                let p = Halt.runFile(stateDirectory: dir, runId: id)
                try Halt.write(p)
                written.append(p)
            }
            if let f = file {
                try Halt.write(f)
                written.append(f)
            }
        } catch {
            Output.stderr("faultline halt: cannot write a halt file: \(ShownText.escaped("\(error)", limit: 300))\n")
            throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.internalError)
        }
        for p in written { Output.line("wrote \(ShownText.controlsEscaped(p))") }
        if noWait || awaited.isEmpty {
            if awaited.isEmpty { Output.line("no run is running under \(ShownText.controlsEscaped(dir))") }
            if all { Output.line("no run starts under \(ShownText.controlsEscaped(dir)) until 'faultline halt --clear'") }
            return
        }
        let deadline = MonotonicClock.now() + timeout
        while !awaited.isEmpty, MonotonicClock.now() < deadline {
            live = Halt.liveRuns(stateDirectory: dir)
            for id in awaited.keys.sorted() where live[id] == nil {
                Output.line("run \(id) ended")
                awaited[id] = nil
            }
            if !awaited.isEmpty { usleep(10_000) }
        }
        if let id = runId, !all { unlink(Halt.runFile(stateDirectory: dir, runId: id)) }
        if all { Output.line("no run starts under \(ShownText.controlsEscaped(dir)) until 'faultline halt --clear'") }
        guard awaited.isEmpty else {
            Output.stderr("faultline halt: still running after \(wait): \(awaited.keys.sorted().joined(separator: ", "))\n")
            throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.invalid)
        }
    }
}
