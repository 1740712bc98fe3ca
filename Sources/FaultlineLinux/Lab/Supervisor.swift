import FaultlineCore
import Foundation
import Glibc

/// What `faultline lab supervise` runs: written by `lab up` into the host's data directory, so
/// the supervisor's own command line holds none of the service's (a selector for the service
/// must never match its supervisor).
public struct SupervisorSpec: Codable, Equatable, Sendable {
    public var name: String
    public var argv: [String]
    public var restart: LabRestart
    /// The cgroup directories each start of the service joins (the supervisor stays outside).
    public var cgroups: [String]

    public init(name: String, argv: [String], restart: LabRestart, cgroups: [String]) {
        self.name = name
        self.argv = argv
        self.restart = restart
        self.cgroups = cgroups
    }
}

/// faultline's own service supervisor for lab hosts, in the manner of systemd's `Restart=`:
/// starts the service (in its cgroups, through `lab cgroup-exec`), waits for it, says in the
/// service's log how it ended, and starts it again after the delay — every time (`always`), or
/// unless it exited with status 0 (`on-failure`). SIGTERM is passed on to the service.
public enum Supervisor {
    nonisolated(unsafe) static var child: pid_t = 0

    public static func serve(specFile: String) -> Int32 {
        guard let data = FileManager.default.contents(atPath: specFile),
            let spec = try? JSONDecoder().decode(SupervisorSpec.self, from: data)
        else {
            Output.stderr("faultline supervise: cannot read \(specFile)\n")
            return ExitCode.badInput
        }
        signal(SIGTERM) { _ in
            if Supervisor.child > 0 { kill(Supervisor.child, SIGTERM) }
            _exit(0)
        }
        let argv =
            spec.cgroups.isEmpty
            ? spec.argv : ["/proc/self/exe", "lab", "cgroup-exec"] + spec.cgroups.flatMap { ["--cgroup", $0] } + ["--"] + spec.argv
        var options = Launcher.Options()
        options.stdout = .descriptor(1)
        options.stderr = .descriptor(2)
        while true {
            let pid: pid_t
            switch Launcher.spawn(argv, options) {
            case .success(let p): pid = p
            case .failure(let f):
                Output.stderr("faultline supervise: cannot start \(spec.name): \(f.text)\n")
                return ExitCode.internalError
            }
            child = pid
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0, errno == EINTR {}
            child = 0
            let exited = status & 0x7f == 0
            let how =
                exited
                ? "exited with status \((status >> 8) & 0xff)" : "was killed by signal \(status & 0x7f) (\(signalName(status & 0x7f)))"
            if !spec.restart.always, exited, (status >> 8) & 0xff == 0 {
                Output.stderr("faultline supervise: \(spec.name) (pid \(pid)) \(how); not started again (on-failure)\n")
                return 0
            }
            Output.stderr(
                "faultline supervise: \(spec.name) (pid \(pid)) \(how); starting it again in \(DurationText.format(spec.restart.delay))\n")
            usleep(UInt32(min(spec.restart.delay / 1000, Int64(UInt32.max))))
        }
    }

    static func signalName(_ n: Int32) -> String {
        Signals.byName.first { $0.value == n }.map { "SIG\($0.key)" } ?? "signal \(n)"
    }

    /// `lab cgroup-exec`: joins each cgroup, then becomes `argv` (same pid, so the service is the
    /// process its supervisor started).
    public static func cgroupExec(_ cgroups: [String], _ argv: [String]) -> Int32 {
        for dir in cgroups {
            do { try Cgroups.write(dir, "cgroup.procs", "0") } catch {
                Output.stderr("faultline cgroup-exec: join \(dir): \(error)\n")
                return ExitCode.internalError
            }
        }
        guard let program = argv.first else { return ExitCode.badInput }
        var cArgs = argv.map { strdup($0) }
        cArgs.append(nil)
        execvp(program, cArgs)
        Output.stderr("faultline cgroup-exec: cannot run '\(program)': \(errnoText())\n")
        return 127
    }
}
