import FaultlineCore
import Foundation

/// The agent on an SSH host: the agent product (`faultline-agent`, built beside `faultline`:
/// the agent and recovery alone, without ICU, curl or the YAML reader), or where it is absent
/// this very binary. Copied to a path named by its version and sha256 when the host has no file
/// there — gzip-compressed on the way when the host has gzip — and checked by hash before it
/// runs, so a binary changed on the host is never run.
///
/// The check at each start is cheap: the install writes the file's identity (device, inode,
/// size, modification and change times to the nanosecond) beside it with the hash, and a start
/// whose file has that identity runs it; any other hashes the file in full, refuses it if the
/// hash differs, and writes the identity anew. A write to the file changes its change time,
/// which no program can set back. This guards against a binary changed or damaged on the host,
/// not against its root, who could change the check itself.
public struct SSHAgentInstall: Sendable {
    public let localPath: String
    public let sha256: String
    /// Whether `localPath` is the agent product (false: the whole faultline binary).
    public let isAgentProduct: Bool

    /// The agent product's file name, beside the faultline executable.
    public static let productName = "faultline-agent"

    /// The agent for hosts of a runner whose executable is `executable`: the agent product
    /// beside it, else the executable itself.
    public static func binary(beside executable: String) -> (path: String, isAgentProduct: Bool) {
        let candidate = "\((executable as NSString).deletingLastPathComponent)/\(productName)"
        return access(candidate, X_OK) == 0 ? (candidate, true) : (executable, false)
    }

    /// The install of the agent for a runner whose executable is `executable`, hashed once per
    /// process and path.
    public static func cached(_ executable: String) throws(AgentError) -> SSHAgentInstall {
        if let hit = cache.value[executable] { return hit }
        let (path, product) = binary(beside: executable)
        let made = try SSHAgentInstall(localPath: path, isAgentProduct: product)
        cache.mutate { $0[executable] = made }
        return made
    }

    private static let cache = Locked([String: SSHAgentInstall]())
    private static let compressing = NSLock()

    /// The hash of the binary at `localPath` (sha256sum), or why not.
    public init(localPath: String, isAgentProduct: Bool) throws(AgentError) {
        let r = Spawner.run(.argv(["sha256sum", localPath]), timeout: 30_000_000_000)
        guard r.status == 0, let hash = r.output.split(separator: " ").first, hash.count == 64 else {
            throw AgentError.failed("local", "sha256sum \(localPath): \(r.error ?? r.output)")
        }
        self.localPath = localPath
        self.isAgentProduct = isAgentProduct
        sha256 = String(hash)
    }

    /// Where the binary lives on the host.
    public func remotePath(_ t: SSHTarget) -> String {
        "\(t.directory)/agent/\(isAgentProduct ? Self.productName : "faultline")-\(FaultlineVersion.text)-\(sha256.prefix(16))"
    }
    public func stateDirectory(_ t: SSHTarget) -> String { "\(t.directory)/state" }

    /// What the host keeps beside the binary: `identity hash`, as `stat` prints the identity.
    static let identityFormat = "%d:%i:%s:%.9Y:%.9Z"

    /// Copies the binary unless the host has a file at its path (named by the hash; checked
    /// when the agent starts, `checked`). The upload lands under another name, its hash is
    /// checked there, and it is renamed into place with its identity written beside it.
    public func ensure(_ link: SSHLink, host: String, cacheDirectory: String) throws(AgentError) -> String {
        let path = remotePath(link.target)
        let look = link.run(
            ["/bin/sh", "-c", "test -x \"$1\" && { echo present; exit 0; }; command -v gzip >/dev/null && echo gzip; exit 0", "sh", path],
            timeout: 15_000_000_000)
        if look.status == 0, look.stdout.contains("present") { return "agent \(path) present" }
        let compressed = look.stdout.contains("gzip") ? gzipped(in: cacheDirectory) : nil
        let script = """
            umask 077 && mkdir -p "$1" || exit 1
            if [ "$4" = gz ]; then gzip -dc; else cat; fi > "$2.part" || { rm -f "$2.part"; exit 1; }
            echo "$3  $2.part" | sha256sum -c --status || { rm -f "$2.part"; echo "the copy's sha256 differs from $3" >&2; exit 97; }
            chmod 700 "$2.part" && mv -f "$2.part" "$2" || exit 1
            id=$(stat -c '\(Self.identityFormat)' "$2" 2>/dev/null) && echo "$id $3" > "$2.id"
            exit 0
            """
        let dir = (path as NSString).deletingLastPathComponent
        let r = link.run(
            ["/bin/sh", "-c", script, "sh", dir, path, sha256, compressed == nil ? "plain" : "gz"], input: compressed ?? localPath,
            timeout: 120_000_000_000)
        guard r.status == 0 else {
            throw AgentError.failed(host, "copying the agent to \(link.target.summary):\(path): \(ShownText.escaped(r.stderr, limit: 300))")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: compressed ?? localPath)[.size] as? Int) ?? 0
        let what = isAgentProduct ? "the agent product" : "the faultline binary itself (no \(Self.productName) beside it)"
        return
            "agent copied to \(path): \(what), \(size >> 20) MiB sent\(compressed == nil ? "" : " gzip-compressed") (sha256 \(sha256.prefix(16))…)"
    }

    /// The binary gzip-compressed, made once per hash in `directory` (the runner's state
    /// directory; a file of this process's own until it is complete); nil when gzip fails here
    /// (the upload is then plain). What the host decompresses is checked by hash there.
    func gzipped(in directory: String) -> String? {
        // Hosts are installed in parallel: the first compresses, the others wait for it.
        Self.compressing.lock()
        defer { Self.compressing.unlock() }
        let path = "\(directory)/faultline-agent-\(sha256.prefix(16)).gz"
        if access(path, R_OK) == 0 { return path }
        let part = "\(path).\(getpid())-\(UInt32.random(in: 0...UInt32.max)).part"
        let r = Spawner.run(.argv(["/bin/sh", "-c", "gzip -6 -c < \"$0\" > \"$1\"", localPath, part]), timeout: 60_000_000_000)
        guard r.status == 0, rename(part, path) == 0 else {
            unlink(part)
            return nil
        }
        return path
    }

    /// Whether the host has a file at the binary's hash-named path (its hash is checked at start).
    func installed(_ link: SSHLink, _ path: String) -> Bool {
        link.run(["test", "-x", path], timeout: 15_000_000_000).status == 0
    }

    /// Whether the file at `path` on the host is this binary, checked as a start checks it.
    public func present(_ link: SSHLink, _ path: String) -> Bool {
        link.run(checked(link.target, ["true"]), timeout: 30_000_000_000).status == 0
    }

    /// `argv` of the installed binary, run only if it is still the one copied: the same
    /// identity as recorded at install, or else the same sha256 (hashed in full, and the
    /// identity written anew).
    public func checked(_ t: SSHTarget, _ argv: [String]) -> [String] {
        let script = """
            h=$1 p=$2; shift 2
            id=$(stat -c '\(Self.identityFormat)' "$p" 2>/dev/null) || id=
            if [ -n "$id" ] && [ -r "$p.id" ] && read -r kept < "$p.id" && [ "$kept" = "$id $h" ]; then exec "$@"; fi
            echo "$h  $p" | sha256sum -c --status || { echo "faultline agent $p: sha256 differs" >&2; exit 97; }
            [ -z "$id" ] || echo "$id $h" > "$p.id"
            exec "$@"
            """
        return ["/bin/sh", "-c", script, "sh", sha256, remotePath(t)] + argv
    }
}
