import ArgumentParser
import FaultlineCore
import FaultlineLinux
import Foundation

struct LabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Bring a lab of namespace hosts up or down, or show its state.",
        subcommands: [LabUp.self, LabDown.self, LabStatus.self, LabHostInit.self, LabExec.self, LabSupervise.self, LabCgroupExec.self])
}

struct LabOptions: ParsableArguments {
    /// Made absolute at once: hosts run in other working directories, and a host's private /tmp
    /// must be seen to cover a relative `--lab-dir` under it.
    @Option(
        help: "Where labs keep their state and host data.",
        transform: { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 })
    var labDir = "/var/lib/faultline/labs"
}

/// A lab file's name, or a lab name.
func labName(_ arg: String, dataRoot: String) throws -> (String, LabSpec?) {
    guard arg.hasSuffix(".yaml") || arg.hasSuffix(".yml") || arg.hasSuffix(".json") else {
        // A name is part of paths (the lab's state and data) and of interface names: checked here.
        guard LabState.isLabName(arg) else {
            Output.stderr(
                "faultline: \(ShownText.escaped(arg)) is not a lab name (1 to 8 lowercase letters or digits, starting with a letter) nor a lab file (.yaml, .yml, .json)\n"
            )
            throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.badInput)
        }
        return (arg, nil)
    }
    do {
        let spec = try LabLoader.load(path: arg, dataRoot: dataRoot)
        return (spec.name, spec)
    } catch let failure as ValidationFailure {
        Output.stderr(failure.description + "\n")
        throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.badInput)
    }
}

struct LabUp: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up", abstract: "Create the lab's bridge, hosts and services; wait until every service is ready.")

    @Argument(help: "Lab file.")
    var file: String

    @OptionGroup var options: LabOptions

    func run() throws {
        let (_, spec) = try labName(file, dataRoot: options.labDir)
        guard let spec else { throw ValidationError("give a lab file (.yaml or .json)") }
        do {
            try LabManager(dataRoot: options.labDir) { Output.line($0) }.up(spec)
        } catch {
            Output.stderr("faultline: \(error)\n")
            throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.internalError)
        }
    }
}

struct LabDown: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down", abstract: "Remove everything a lab created, from its state file (works after a crash).",
        discussion: "Exit codes: 0 nothing left · 4 something could not be removed.")

    @Argument(help: "Lab file or lab name.")
    var lab: String

    @OptionGroup var options: LabOptions

    func run() throws {
        let (name, _) = try labName(lab, dataRoot: options.labDir)
        let problems = LabManager(dataRoot: options.labDir) { Output.line($0) }.down(name)
        for p in problems { Output.stderr("faultline: \(p)\n") }
        if problems.contains(where: { !$0.hasSuffix("nothing to remove") }) {
            throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.residue)
        }
    }
}

struct LabStatus: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show a lab's hosts and services.")

    @Argument(help: "Lab file or lab name.")
    var lab: String

    @OptionGroup var options: LabOptions

    func run() throws {
        let (name, spec) = try labName(lab, dataRoot: options.labDir)
        let manager = LabManager(dataRoot: options.labDir, log: { Output.line($0) })
        for line in manager.status(name, spec: spec) { Output.line(line) }
    }
}

struct LabHostInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host-init", abstract: "Internal: PID 1 of a lab host.", shouldDisplay: false)

    @Option(help: "Mount a fresh tmpfs here.") var `private`: [String] = []
    @Option(help: "Created once the host is ready.") var readyFile: String
    @Option(help: "FSTYPE:OPTIONS:PATH of a cgroup filesystem to mount again.") var cgroupMount: [String] = []
    @Option(help: "SIZE:PATH of a tmpfs of that size inside a private directory.") var disk: [String] = []

    func run() throws {
        throw ArgumentParser.ExitCode(HostInit.serve(privateDirs: `private`, readyFile: readyFile, disks: disk, cgroupMounts: cgroupMount))
    }
}

struct LabExec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec", abstract: "Internal: start a service detached inside a lab host.", shouldDisplay: false)

    @Option var dir: String
    @Option var log: String
    @Option var env: [String] = []
    @Option var cgroup: [String] = []
    @Option var supervise: String?
    @Argument(parsing: .postTerminator) var argv: [String] = []

    func run() throws {
        var environment: [String: String] = [:]
        for e in env {
            let parts = e.split(separator: "=", maxSplits: 1)
            environment[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        let code = HostInit.execDetached(argv, dir: dir, log: log, env: environment, cgroups: cgroup, supervise: supervise)
        if code != 0 { throw ArgumentParser.ExitCode(code) }
    }
}

struct LabSupervise: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supervise", abstract: "Internal: restart a lab service when it exits.", shouldDisplay: false)

    @Option var spec: String

    func run() throws { throw ArgumentParser.ExitCode(Supervisor.serve(specFile: spec)) }
}

struct LabCgroupExec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cgroup-exec", abstract: "Internal: join cgroups, then run a program.", shouldDisplay: false)

    @Option var cgroup: [String] = []
    @Argument(parsing: .postTerminator) var argv: [String]

    func run() throws { throw ArgumentParser.ExitCode(Supervisor.cgroupExec(cgroup, argv)) }
}
