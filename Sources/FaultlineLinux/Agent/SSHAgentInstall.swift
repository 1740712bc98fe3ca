import FaultlineCore
import Foundation

/// The agent on an SSH host: the agent product (`faultline-agent`, built beside `faultline`:
/// the agent and recovery alone, without ICU, curl or the YAML reader), or where it is absent
/// this very binary. Copied to a path named by its version and sha256 when the host has no file
/// there — compressed on the way with zstd or gzip when the host has one — and checked by hash
/// before it runs, so a binary changed on the host is never run.
///
/// The check at each start is cheap: the install writes the file's identity (device, inode,
/// size, modification and change times to the nanosecond) beside it with the hash, and a start
/// whose file has that identity runs it; any other hashes the file in full, refuses it if the
/// hash differs, and writes the identity anew. A write to the file changes its change time,
/// which no program can set back. This guards against a binary changed or damaged on the host,
/// not against its root, who could change the check itself.
///
/// Hashes are taken with `openssl dgst -sha256` where a host has it (the CPU's SHA
/// instructions: a sixth of `sha256sum`'s time here), else `sha256sum`.
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
    /// process and path. One hash at a time: a caller that arrives while another hashes waits
    /// for its result (the runner hashes while it connects; the agents' start takes the result).
    public static func cached(_ executable: String) throws(AgentError) -> SSHAgentInstall {
        hashing.lock()
        defer { hashing.unlock() }
        if let hit = cache.value[executable] { return hit }
        let (path, product) = binary(beside: executable)
        let made = try SSHAgentInstall(localPath: path, isAgentProduct: product)
        cache.mutate { $0[executable] = made }
        return made
    }

    private static let cache = Locked([String: SSHAgentInstall]())
    private static let hashing = NSLock()
    private static let compressing = NSLock()

    /// A shell function, `sha FILE`, printing the file's sha256 in hex (nothing if unreadable).
    static let shaFunction = """
        sha() { { openssl dgst -sha256 -r "$1" 2>/dev/null || sha256sum "$1" 2>/dev/null; } | { read -r s _ && echo "$s"; }; }
        """

    /// The hash of the binary at `localPath`, or why not.
    public init(localPath: String, isAgentProduct: Bool) throws(AgentError) {
        let r = Spawner.run(.argv(["/bin/sh", "-c", "\(Self.shaFunction)\nsha \"$1\"", "sh", localPath]), timeout: 30_000_000_000)
        let hash = r.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard r.status == 0, hash.count == 64,
            hash.utf8.allSatisfy({ ASCII.digit($0) || (97...102).contains($0) || (65...70).contains($0) })
        else {
            throw AgentError.failed("local", "sha256 of \(localPath): \(r.error ?? r.output)")
        }
        self.localPath = localPath
        self.isAgentProduct = isAgentProduct
        sha256 = hash.lowercased()
    }

    /// Where the binary lives on the host.
    public func remotePath(_ t: SSHTarget) -> String {
        "\(t.directory)/agent/\(isAgentProduct ? Self.productName : "faultline")-\(FaultlineVersion.text)-\(sha256.prefix(16))"
    }
    public func stateDirectory(_ t: SSHTarget) -> String { "\(t.directory)/state" }

    /// What the host keeps beside the binary: `identity hash`, as `stat` prints the identity.
    static let identityFormat = "%d:%i:%s:%.9Y:%.9Z"

    /// The decompressors a copy may use, best first: (name on the host, what compresses for it
    /// here, the file suffix). zstd decompresses the agent in a third of gzip's time; its
    /// level 3 compresses it in 0.14 s (level 9: 0.85 s for a tenth less on the wire).
    static let codecs: [(tool: String, compress: String, suffix: String)] = [
        ("zstd", "zstd -q -3 -c", "zst"),
        ("gzip", "gzip -6 -c", "gz"),
    ]

    /// A shell line printing the decompressors the host has, one word each.
    static let toolsLine = codecs.map { "command -v \($0.tool) >/dev/null && printf ' \($0.tool)'" }.joined(separator: "; ") + "; echo"

    /// Copies the binary unless the host has a file at its path (named by the hash; checked
    /// when the agent starts, `checked`).
    public func ensure(_ link: SSHLink, host: String, cacheDirectory: String) throws(AgentError) -> String {
        let path = remotePath(link.target)
        let look = link.run(
            ["/bin/sh", "-c", "test -x \"$1\" && { echo present; exit 0; }; \(Self.toolsLine); exit 0", "sh", path],
            timeout: 15_000_000_000)
        if look.status == 0, look.stdout.hasPrefix("present") { return "agent \(path) present" }
        let tools = look.stdout.split(whereSeparator: \.isWhitespace).map(String.init)
        return try upload(link, host: host, cacheDirectory: cacheDirectory, hostHas: tools)
    }

    /// Copies the binary to its path on the host, compressed with the first codec the host has
    /// (`hostHas`) that works here. The upload lands under another name, its hash is checked
    /// there, and it is renamed into place with its identity written beside it.
    public func upload(_ link: SSHLink, host: String, cacheDirectory: String, hostHas: [String]) throws(AgentError) -> String {
        let path = remotePath(link.target)
        var sent: (file: String, codec: String)? = nil
        for c in Self.codecs where hostHas.contains(c.tool) {
            if let file = compressed(in: cacheDirectory, c.tool) {
                sent = (file, c.tool)
                break
            }
        }
        let script = """
            \(Self.shaFunction)
            umask 077 && mkdir -p "$1" || exit 1
            case "$4" in zstd) zstd -q -dc ;; gzip) gzip -dc ;; *) cat ;; esac > "$2.part" || { rm -f "$2.part"; exit 1; }
            [ "$(sha "$2.part")" = "$3" ] || { rm -f "$2.part"; echo "the copy's sha256 differs from $3" >&2; exit 97; }
            chmod 700 "$2.part" && mv -f "$2.part" "$2" || exit 1
            id=$(stat -c '\(Self.identityFormat)' "$2" 2>/dev/null) && echo "$id $3" > "$2.id"
            exit 0
            """
        let dir = (path as NSString).deletingLastPathComponent
        let r = link.run(
            ["/bin/sh", "-c", script, "sh", dir, path, sha256, sent?.codec ?? "plain"], input: sent?.file ?? localPath,
            timeout: 120_000_000_000)
        guard r.status == 0 else {
            throw AgentError.failed(host, "copying the agent to \(link.target.summary):\(path): \(ShownText.escaped(r.stderr, limit: 300))")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: sent?.file ?? localPath)[.size] as? Int) ?? 0
        let what = isAgentProduct ? "the agent product" : "the faultline binary itself (no \(Self.productName) beside it)"
        let how = sent.map { " \($0.codec)-compressed" } ?? ""
        return "agent copied to \(path): \(what), \(fixed(Double(size) / 1_048_576, 1)) MiB sent\(how) (sha256 \(sha256.prefix(16))…)"
    }

    /// The binary compressed for `tool` (one of `codecs`), made once per hash in `directory`
    /// (the runner's state directory; a file of this process's own until it is complete); nil
    /// when that fails here (no such program). What the host decompresses is hashed there.
    func compressed(in directory: String, _ tool: String) -> String? {
        guard let codec = Self.codecs.first(where: { $0.tool == tool }) else { return nil }
        // Hosts are installed in parallel: the first compresses, the others wait for it.
        Self.compressing.lock()
        defer { Self.compressing.unlock() }
        let path = "\(directory)/faultline-agent-\(sha256.prefix(16)).\(codec.suffix)"
        if access(path, R_OK) == 0 { return path }
        let part = "\(path).\(getpid())-\(UInt32.random(in: 0...UInt32.max)).part"
        let r = Spawner.run(.argv(["/bin/sh", "-c", "\(codec.compress) < \"$0\" > \"$1\"", localPath, part]), timeout: 60_000_000_000)
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
        ["/bin/sh", "-c", Self.checkScript(says: false), "sh", sha256, remotePath(t)] + argv
    }

    /// `checked`, saying first on its stdout what it found, in one line before the agent's
    /// own output: `faultline-agent start` (then the agent runs), `faultline-agent absent`
    /// followed by the decompressors the host has (exit 98), or `faultline-agent refused: why`
    /// (exit 97). One session starts an agent that is installed, and says what to copy if not.
    public func started(_ t: SSHTarget, _ argv: [String]) -> [String] {
        ["/bin/sh", "-c", Self.checkScript(says: true), "sh", sha256, remotePath(t)] + argv
    }

    /// What `started` says before the agent runs.
    public enum StartLine: Equatable, Sendable {
        case start
        /// With the decompressors the host has.
        case absent([String])
        case refused(String)

        static let prefix = "faultline-agent "

        public init?(_ line: String) {
            guard line.hasPrefix(Self.prefix) else { return nil }
            let rest = line.dropFirst(Self.prefix.count)
            if rest == "start" {
                self = .start
            } else if rest == "absent" || rest.hasPrefix("absent ") {
                self = .absent(rest.split(separator: " ").dropFirst().map(String.init))
            } else if rest.hasPrefix("refused: ") {
                self = .refused(String(rest.dropFirst("refused: ".count)))
            } else {
                return nil
            }
        }
    }

    static func checkScript(says: Bool) -> String {
        let start = says ? "echo 'faultline-agent start'; " : ""
        let absent = says ? "[ -x \"$p\" ] || { printf 'faultline-agent absent'; \(toolsLine); exit 98; }\n" : ""
        let refused = says ? "echo \"faultline-agent refused: $p: sha256 differs\"" : "echo \"faultline agent $p: sha256 differs\" >&2"
        return """
            h=$1 p=$2; shift 2
            \(absent)id=$(stat -c '\(identityFormat)' "$p" 2>/dev/null) || id=
            if [ -n "$id" ] && [ -r "$p.id" ] && read -r kept < "$p.id" && [ "$kept" = "$id $h" ]; then \(start)exec "$@"; fi
            \(shaFunction)
            [ "$(sha "$p")" = "$h" ] || { \(refused); exit 97; }
            [ -z "$id" ] || echo "$id $h" > "$p.id"
            \(start)exec "$@"
            """
    }
}
