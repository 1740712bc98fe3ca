import Foundation
import Yams

/// A host reached through the system's OpenSSH client, so the user's ssh_config, agent,
/// ProxyJump and known_hosts apply: `ssh: "admin@db1.example.com:22"`, or a mapping that adds
/// an identity, a known_hosts file, the host-key policy, `become: sudo` and the directory the
/// agent and its ledgers live in on the host.
public struct SSHTarget: Codable, Equatable, Sendable {
    public enum HostKeys: String, Codable, Sendable, CaseIterable {
        /// An unknown or changed key is refused (OpenSSH's StrictHostKeyChecking=yes).
        case strict
        /// A new host's key is accepted and recorded; a changed one is still refused.
        case acceptNew = "accept-new"
    }
    public enum Become: String, Codable, Sendable, CaseIterable {
        case none
        case sudo
    }

    public var user: String?
    public var host: String
    public var port: Int?
    /// Absolute paths (a relative one is taken from the experiment file's folder).
    public var identity: String?
    public var knownHosts: String?
    public var hostKeys: HostKeys
    public var become: Become
    /// The agent's binaries and its ledgers on the host.
    public var directory: String

    public init(
        user: String? = nil, host: String, port: Int? = nil, identity: String? = nil, knownHosts: String? = nil,
        hostKeys: HostKeys = .strict, become: Become = .none, directory: String = "/var/lib/faultline"
    ) {
        self.user = user
        self.host = host
        self.port = port
        self.identity = identity
        self.knownHosts = knownHosts
        self.hostKeys = hostKeys
        self.become = become
        self.directory = directory
    }

    /// `user@host` as ssh takes it.
    public var destination: String { user.map { "\($0)@\(host)" } ?? host }
    public var summary: String { "ssh \(destination)\(port.map { ":\($0)" } ?? "")" }

    static let keys = ["address", "identity", "known_hosts", "host_keys", "become", "dir"]

    /// `[user@]host[:port]`: a user and a host ssh would take (no option, no space, no control
    /// character), a port from 1 to 65535.
    public static func parse(_ text: String) -> SSHTarget? {
        var rest = Substring(text)
        var user: String?
        if let at = rest.lastIndex(of: "@") {
            user = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
        }
        var port: Int?
        if let colon = rest.lastIndex(of: ":") {
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65_535).contains(p) else { return nil }
            port = p
            rest = rest[..<colon]
        }
        guard isSafeWord(rest), user.map({ isSafeWord(Substring($0)) }) ?? true else { return nil }
        return SSHTarget(user: user, host: String(rest), port: port)
    }

    /// A user or host name ssh takes as it is: not empty, no leading '-' (ssh would read it as an
    /// option: `-oProxyCommand=…`), printable ASCII without a space, '@', ':', a quote, a
    /// backslash or a shell character.
    public static func isSafeWord(_ s: Substring) -> Bool {
        !s.isEmpty && !s.hasPrefix("-") && s.utf8.count <= 255
            && s.unicodeScalars.allSatisfy { $0.value > 32 && $0.value < 127 && !"@:'\"\\;&|$`<>(){}*?!#~".unicodeScalars.contains($0) }
    }

    /// The value of a host's `ssh` key; problems go to `r`.
    /// `defaults`: the options alone (no address), applied to every host of an inventory.
    static func read(_ node: Node, path: String, file: String, reader r: NodeReader, defaults: Bool = false) -> SSHTarget? {
        let usage = "an address like 'admin@db1.example.com:22'"
        if defaults {
            guard case .mapping = node,
                let f = r.fields(node, path: path, allowed: Array(keys.dropFirst()), what: "ssh options for every inventory host")
            else {
                r.error(node, "'\(path)' must be a mapping of ssh options (\(keys.dropFirst().joined(separator: ", ")))")
                return nil
            }
            return options(f, SSHTarget(host: ""), path: path, file: file, reader: r)
        }
        if case .scalar(let s) = node {
            guard let t = parse(s.string) else {
                r.error(node, "'\(path)' must be \(usage), got \(shown: s.string)")
                return nil
            }
            return t
        }
        guard let f = r.fields(node, path: path, allowed: keys, what: "\(usage), or a mapping with 'address'") else { return nil }
        let text = r.string(f, "address", required: true)
        let parsed = text.flatMap(parse)
        if let text, parsed == nil { r.error(f.values["address"], "'\(path).address' must be \(usage), got \(shown: text)") }
        let t = options(f, parsed ?? SSHTarget(host: ""), path: path, file: file, reader: r)
        return parsed == nil ? nil : t
    }

    static func options(_ f: Fields, _ start: SSHTarget, path: String, file: String, reader r: NodeReader) -> SSHTarget {
        var t = start
        let base = (file as NSString).deletingLastPathComponent
        let absolute = { (p: String) in p.hasPrefix("/") || base.isEmpty ? p : "\(base)/\(p)" }
        t.identity = r.string(f, "identity").map(absolute)
        t.knownHosts = r.string(f, "known_hosts").map(absolute)
        if let k = r.string(f, "host_keys") {
            if let v = HostKeys(rawValue: k) {
                t.hostKeys = v
            } else {
                r.error(f.values["host_keys"], "'\(path).host_keys' must be strict or accept-new, got \(shown: k)")
            }
        }
        if let b = r.string(f, "become") {
            if let v = Become(rawValue: b) {
                t.become = v
            } else {
                r.error(f.values["become"], "'\(path).become' must be none or sudo, got \(shown: b)")
            }
        }
        if let d = r.string(f, "dir") {
            if d.hasPrefix("/"), !d.contains(".."), d.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 && $0 != "'" }) {
                t.directory = d
            } else {
                r.error(f.values["dir"], "'\(path).dir' must be an absolute path without '..', spaces or quotes, got \(shown: d)")
            }
        }
        return t
    }
}
