import FaultlineCore
import Foundation
import Glibc

/// One host reached through the system's `ssh`: a master connection (ControlMaster) whose
/// socket lives in a private directory, and every command and agent of the run multiplexed
/// over it. The user's ssh_config, agent, ProxyJump and known_hosts apply; host keys are
/// checked strictly unless the experiment accepts new ones. Every ssh command line the library
/// runs is built here.
public struct SSHLink: Sendable, Equatable {
    public var target: SSHTarget
    /// The master's control socket (absent: each command connects on its own).
    public var controlPath: String

    public init(target: SSHTarget, controlPath: String) {
        self.target = target
        self.controlPath = controlPath
    }

    /// Options every ssh invocation of this host takes.
    var options: [String] {
        var o = [
            "-o", "BatchMode=yes", "-o", "ControlPath=\(controlPath)", "-o", "ConnectTimeout=5",
            "-o", "StrictHostKeyChecking=\(target.hostKeys == .strict ? "yes" : "accept-new")",
            // The runner notices a dead path within ~3 s; the agent's lease covers the rest.
            "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=3", "-o", "LogLevel=ERROR",
        ]
        if let k = target.knownHosts { o += ["-o", "UserKnownHostsFile=\(k)"] }
        if let i = target.identity { o += ["-i", i, "-o", "IdentitiesOnly=yes"] }
        if let p = target.port { o += ["-p", String(p)] }
        return o
    }

    /// `argv` run on the host (through sudo when the host says `become: sudo`), as one
    /// POSIX-quoted remote command line. `--` ends ssh's options before the destination, so
    /// neither the destination nor the command can be read as an option, whatever they hold.
    public func command(_ argv: [String]) -> [String] {
        let remote = (target.become == .sudo ? ["sudo", "-n", "--"] : []) + argv
        return ["ssh"] + options + ["--", target.destination, remote.map(Self.quote).joined(separator: " ")]
    }

    /// One argument for the remote shell: single-quoted, a quote written as '\''.
    static func quote(_ s: String) -> String {
        if !s.isEmpty, s.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "/._-=:,+@%".unicodeScalars.contains($0) })
        {
            return s
        }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Opens the master connection (in the background, kept up to 60 s after its last session
    /// so a runner killed outright leaves nothing for long). An unknown or changed host key, a
    /// refused login or an unreachable host is an error naming the host, before anything runs.
    public static func open(_ target: SSHTarget, host: String, directory: String) -> Result<SSHLink, SSHFailure> {
        let link = SSHLink(target: target, controlPath: "\(directory)/\(host)")
        let argv = ["ssh", "-M", "-N", "-f", "-o", "ControlPersist=60"] + link.options + ["--", target.destination]
        let r = run(argv, timeout: 15_000_000_000)
        guard r.status == 0 else {
            // ssh ends with what decided it ("Host key for … has changed and you have requested
            // strict checking.", "Host key verification failed."); a banner may come first.
            let lines = r.stderr.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let why = lines.suffix(2).joined(separator: " ")
            return .failure(SSHFailure(text: "\(target.summary): \(why.isEmpty ? "exit \(r.status)" : String(why.prefix(400)))"))
        }
        return .success(link)
    }

    /// Ends the master connection (its sessions end with it).
    public func close() {
        _ = Self.run(["ssh", "-O", "exit"] + options + ["--", target.destination], timeout: 5_000_000_000)
    }

    /// Runs `argv` on the host, stdin from `input` (a file) or nothing.
    public func run(_ argv: [String], input: String? = nil, timeout: Int64) -> (status: Int32, stdout: String, stderr: String) {
        Self.run(command(argv), input: input, timeout: timeout)
    }

    /// Runs an ssh command line with stdout and stderr in files (a master that goes into the
    /// background keeps them open, so pipes would not end), and waits for it.
    static func run(_ argv: [String], input: String? = nil, timeout: Int64) -> (
        status: Int32, stdout: String, stderr: String
    ) {
        var template = Array("/tmp/fl-ssh-out-XXXXXX".utf8CString)
        guard let scratch = mkdtemp(&template).map({ String(cString: $0) }) else { return (-1, "", "mkdtemp: \(errnoText())") }
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var o = Launcher.Options()
        o.stdout = .file("\(scratch)/out")
        o.stderr = .file("\(scratch)/err")
        o.newGroup = true
        // Launcher's .file opens for writing: the input is read through a descriptor.
        var fd: Int32 = -1
        if let input {
            fd = Glibc.open(input, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return (-1, "", "\(input): \(errnoText())") }
            o.stdin = .descriptor(fd)
        }
        defer { if fd >= 0 { Glibc.close(fd) } }
        return wait(Launcher.spawn(argv, o), scratch: scratch, timeout: timeout)
    }

    private static func wait(_ launched: Result<pid_t, Launcher.Failure>, scratch: String, timeout: Int64) -> (
        status: Int32, stdout: String, stderr: String
    ) {
        let pid: pid_t
        switch launched {
        case .success(let p): pid = p
        case .failure(let f): return (-1, "", "cannot run ssh: \(f.text)")
        }
        let deadline = MonotonicClock.now() + timeout
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0, errno != EINTR { break }
            if MonotonicClock.now() > deadline {
                kill(-pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                return (-1, read("\(scratch)/out"), "timed out after \(DurationText.format(timeout))")
            }
            usleep(2_000)
        }
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (code, read("\(scratch)/out"), read("\(scratch)/err"))
    }

    private static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
}

public struct SSHFailure: Error, Sendable {
    public var text: String
}
