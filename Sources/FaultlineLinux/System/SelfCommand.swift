import FaultlineCore

/// Every command line of the faultline binary that the library runs — agents, recovery, a lab
/// host's init and its services — built here and nowhere else.
public struct SelfCommand: Sendable {
    public var executable: String

    public init(executable: String) { self.executable = executable }

    /// How a command run inside a lab host names the faultline executable: the descriptor the
    /// launch opened on it (`Launch.inherit`) before entering the host. A host with a private
    /// `/tmp` hides a binary under /tmp (a CI runner's work folder, a downloaded release), and
    /// the descriptor still reaches it — and the very file the runner runs, not an older one.
    public static let inherited = "/proc/self/fd/3"

    /// `faultline agent`: serves one run's faults on its host, under a lease.
    public func agent(runId: String, stateDirectory: String, ownPIDNamespace: Bool) -> [String] {
        [executable, "agent", "--run", runId, "--state-dir", stateDirectory] + (ownPIDNamespace ? ["--own-pid-namespace"] : [])
    }

    /// `faultline recover`: one run (`runId`), or every ledger in the directory.
    public func recover(runId: String?, stateDirectory: String, force: Bool) -> [String] {
        [executable, "recover"] + (runId.map { ["--run", $0] } ?? ["--all"]) + ["--state-dir", stateDirectory] + (force ? ["--force"] : [])
    }

    /// `faultline lab host-init`: PID 1 of a lab host.
    public func labHostInit(readyFile: String, privateDirs: [String], disks: [String: UInt64] = [:], cgroupMounts: [String] = [])
        -> [String]
    {
        var out = [executable, "lab", "host-init", "--ready-file", readyFile] + privateDirs.flatMap { ["--private", $0] }
        for (path, size) in disks.sorted(by: { $0.key < $1.key }) { out += ["--disk", "\(size):\(path)"] }
        return out + cgroupMounts.flatMap { ["--cgroup-mount", $0] }
    }

    /// `faultline lab exec`: starts a service detached inside a lab host — in `cgroups`, or
    /// under the supervisor that `supervise` (a spec file) describes.
    public func labExec(
        dir: String, log: String, env: [String: String], argv: [String], cgroups: [String] = [], supervise: String? = nil
    ) -> [String] {
        var out: [String] = [executable, "lab", "exec", "--dir", dir, "--log", log]
        for (k, v) in env.sorted(by: { $0.key < $1.key }) { out += ["--env", "\(k)=\(v)"] }
        for c in cgroups { out += ["--cgroup", c] }
        if let supervise { out += ["--supervise", supervise] }
        return out + ["--"] + argv
    }
}

/// A command line to start, and the file to open as its descriptor 3 first (see
/// `SelfCommand.inherited`).
public struct Launch: Sendable, Equatable {
    public var argv: [String]
    public var inherit: String?
}

/// How a command reaches a host: here, or inside a lab host's network, PID and mount
/// namespaces (entered through the host's init). The namespace-entry prefix is built only here.
public enum HostEntry: Sendable, Equatable {
    case local
    /// A lab host: its init (PID 1 of its PID namespace), as the root namespace sees it.
    case namespaces(initPid: Int32)
    /// A host reached over its SSH master connection.
    case ssh(SSHLink)

    /// `argv` as run on the host.
    public func command(_ argv: [String]) -> [String] {
        switch self {
        case .local: return argv
        case .namespaces(let pid): return ["nsenter", "--target", String(pid), "--net", "--pid", "--mount", "--"] + argv
        case .ssh(let link): return link.command(argv)
        }
    }

    /// A command line of the faultline binary, made by `make` from the binary, as run on this
    /// host: inside a lab host it names the executable by the descriptor the launch opens.
    public func faultline(_ binary: SelfCommand, _ make: (SelfCommand) -> [String]) -> Launch {
        guard case .namespaces = self else { return Launch(argv: command(make(binary)), inherit: nil) }
        return Launch(argv: command(make(SelfCommand(executable: SelfCommand.inherited))), inherit: binary.executable)
    }

    /// A command spec as run on the host (a shell script becomes `/bin/sh -c` inside it).
    public func command(_ spec: CommandSpec) -> CommandSpec {
        if case .local = self { return spec }
        switch spec {
        case .argv(let a): return .argv(command(a))
        case .shell(let s): return .argv(command(["/bin/sh", "-c", s]))
        }
    }

    /// Inside a lab host, /proc shows only the host's processes and its /run is private.
    public var ownPIDNamespace: Bool {
        if case .namespaces = self { return true }
        return false
    }
}
