import FaultlineCore
import Foundation
import Glibc

/// The processes that give each lab host its own PID namespace.
public enum HostInit {
    /// PID 1 of a host: mounts a fresh tmpfs on each private directory, marks itself ready by
    /// creating `readyFile`, then reaps orphans until killed. On SIGTERM it stops everything
    /// in its namespace.
    public static func serve(privateDirs: [String], readyFile: String, disks: [String] = [], cgroupMounts: [String] = []) -> Int32 {
        // `ip netns exec` mounted a fresh /sys for the host's network namespace, which has no
        // cgroup filesystems: the root namespace's are mounted again at the same paths (the
        // same hierarchies), so the host's agent and services see their cgroups.
        for m in cgroupMounts {
            let parts = m.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else { continue }
            let (fstype, options, path) = (parts[0], parts[1], parts[2])
            if fstype != "tmpfs" { _ = mkdir(path, 0o755) }
            // A named v1 hierarchy without controllers is mounted with "none,name=…".
            let data =
                fstype == "cgroup" && !options.split(separator: ",").contains { !$0.hasPrefix("name=") } ? "none,\(options)" : options
            let done = data.isEmpty ? mount(fstype, path, fstype, 0, nil) : mount(fstype, path, fstype, 0, data)
            if done != 0 {
                Output.stderr("host-init: mount \(fstype) (\(data)) on '\(path)': \(errnoText())\n")
            }
        }
        for dir in privateDirs {
            // The mount namespace is private (unshare --propagation private): nothing leaks out.
            if mount("tmpfs", dir, "tmpfs", 0, dir == "/root" ? "mode=0700" : "mode=0755") != 0 {
                Output.stderr("host-init: mount tmpfs on '\(dir)': \(errnoText())\n")
                return ExitCode.internalError
            }
        }
        // `SIZE:PATH`: a small disk, a tmpfs of that size inside a private directory.
        for d in disks {
            let parts = d.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, let size = UInt64(parts[0]) else { continue }
            let path = parts[1]
            var prefix = ""
            for c in path.split(separator: "/") {
                prefix += "/\(c)"
                _ = mkdir(prefix, 0o755)
            }
            if mount("tmpfs", path, "tmpfs", 0, "size=\(size),mode=0755") != 0 {
                Output.stderr("host-init: mount a \(size)-byte tmpfs on '\(path)': \(errnoText())\n")
                return ExitCode.internalError
            }
        }
        signal(SIGTERM) { _ in
            kill(-1, SIGKILL)
            _exit(0)
        }
        _ = FileManager.default.createFile(atPath: readyFile, contents: Data("\(getpid())\n".utf8))
        // Services arrive by reparenting, so "no child" now does not mean none later; a dead
        // orphan left unreaped would keep its pid (PostgreSQL refuses to start over a pid
        // file whose pid still exists). Without children, look again every 20 ms.
        var status: Int32 = 0
        while true {
            if waitpid(-1, &status, 0) < 0, errno == ECHILD { usleep(20_000) }
        }
    }

    /// Starts `argv` detached inside the current host (in a new session, stdout and stderr
    /// appended to `log`, working directory `dir`) and prints its pid; the process is then
    /// reparented to the host's PID 1.
    /// In `cgroups` (joined first, so the service is born there), or under faultline's
    /// supervisor (`supervise`: its spec file), which then starts the service itself.
    public static func execDetached(
        _ argv: [String], dir: String, log: String, env: [String: String], cgroups: [String] = [], supervise: String? = nil
    ) -> Int32 {
        guard chdir(dir) == 0 else {
            Output.stderr("lab exec: chdir '\(dir)': \(errnoText())\n")
            return ExitCode.internalError
        }
        for c in cgroups {
            do { try Cgroups.write(c, "cgroup.procs", "0") } catch {
                Output.stderr("lab exec: join cgroup \(c): \(error)\n")
                return ExitCode.internalError
            }
        }
        let argv = supervise.map { ["/proc/self/exe", "lab", "supervise", "--spec", $0] } ?? argv
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        let pid: pid_t
        switch Detached.start(argv, log: log, environment: environment) {
        case .success(let p): pid = p
        case .failure(let e):
            Output.stderr("lab exec: \(e)\n")
            return ExitCode.internalError
        }
        print(pid)
        return 0
    }
}
