import FaultlineCore
import Foundation

/// The agent on an SSH host is this very binary: copied to a path named by its version and
/// sha256 when it is absent there or its hash differs, and checked by hash again each time it
/// is started, so a binary changed on the host is never run.
public struct SSHAgentInstall: Sendable {
    public let localPath: String
    public let sha256: String

    /// The hash of the binary at `localPath`, computed once per process and path.
    public static func cached(_ localPath: String) throws(AgentError) -> SSHAgentInstall {
        if let hit = cache.value[localPath] { return hit }
        let made = try SSHAgentInstall(localPath: localPath)
        cache.mutate { $0[localPath] = made }
        return made
    }

    private static let cache = Locked([String: SSHAgentInstall]())

    /// The hash of the binary at `localPath` (sha256sum), or why not.
    public init(localPath: String) throws(AgentError) {
        let r = Spawner.run(.argv(["sha256sum", localPath]), timeout: 30_000_000_000)
        guard r.status == 0, let hash = r.output.split(separator: " ").first, hash.count == 64 else {
            throw AgentError.failed("local", "sha256sum \(localPath): \(r.error ?? r.output)")
        }
        self.localPath = localPath
        sha256 = String(hash)
    }

    /// Where the binary lives on the host.
    public func remotePath(_ t: SSHTarget) -> String { "\(t.directory)/agent/faultline-\(FaultlineVersion.text)-\(sha256.prefix(16))" }
    public func stateDirectory(_ t: SSHTarget) -> String { "\(t.directory)/state" }

    /// Copies the binary unless the host has a file at its path, which is named by the hash
    /// (an upload lands under another name and is renamed when complete). The hash itself is
    /// checked when the agent starts (`checked`): a file changed on the host is refused then,
    /// and hashing 60-90 MB once per start is enough.
    public func ensure(_ link: SSHLink, host: String) throws(AgentError) -> String {
        let path = remotePath(link.target)
        if installed(link, path) { return "agent \(path) present" }
        let dir = (path as NSString).deletingLastPathComponent
        let script = "umask 077 && mkdir -p \"$1\" && cat > \"$2.part\" && chmod 700 \"$2.part\" && mv -f \"$2.part\" \"$2\""
        let r = link.run(["/bin/sh", "-c", script, "sh", dir, path], input: localPath, timeout: 120_000_000_000)
        guard r.status == 0 else {
            throw AgentError.failed(host, "copying the agent to \(link.target.summary):\(path): \(r.stderr.prefix(300))")
        }
        guard present(link, path) else { throw AgentError.failed(host, "the agent copied to \(path) does not have sha256 \(sha256)") }
        return "agent copied to \(path) (sha256 \(sha256.prefix(16))…)"
    }

    /// Whether the host has a file at the binary's hash-named path (its hash is checked at start).
    func installed(_ link: SSHLink, _ path: String) -> Bool {
        link.run(["test", "-x", path], timeout: 15_000_000_000).status == 0
    }

    /// Whether the file at `path` on the host has this hash (hashes it there: 60-90 MB).
    func present(_ link: SSHLink, _ path: String) -> Bool {
        let r = link.run(["sha256sum", path], timeout: 30_000_000_000)
        return r.status == 0 && r.stdout.hasPrefix(sha256 + " ")
    }

    /// `argv` of the installed binary, run only if its hash is still the one copied.
    public func checked(_ t: SSHTarget, _ argv: [String]) -> [String] {
        let path = remotePath(t)
        return [
            "/bin/sh", "-c",
            "echo \"$1  $2\" | sha256sum -c --status || { echo \"faultline agent $2: sha256 differs\" >&2; exit 97; }; shift 2; exec \"$@\"",
            "sh", sha256, path,
        ] + argv
    }
}
