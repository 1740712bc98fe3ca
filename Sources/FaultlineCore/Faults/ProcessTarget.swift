import Foundation
import Yams

/// The processes a process fault (kill, pause) acts on: a host, or a role resolved when the
/// fault fires, a selector, and how many of the matches it takes.
public struct ProcessTarget: Codable, Equatable, Sendable {
    public var host: String
    /// When set, `host` is filled in at the instant the fault fires.
    public var role: RoleTarget?
    public var selector: ProcessSelector
    public var multiplicity: Multiplicity

    public init(host: String = "local", role: RoleTarget? = nil, selector: ProcessSelector, multiplicity: Multiplicity = .one) {
        self.host = host
        self.role = role
        self.selector = selector
        self.multiplicity = multiplicity
    }

    static let keys = ["host", "process", "count", "all"]
    static let selectorKeys = ["name", "pid", "pidfile", "cmdline", "port"]

    /// Reads `host`, `process`, `count` and `all` from a kind's fields.
    static func read(_ f: Fields, reader r: NodeReader) -> ProcessTarget? {
        guard let pn = f.value("process", required: true, reader: r) else { return nil }
        let selector: ProcessSelector?
        if case .scalar(let s) = pn {
            selector = .name(s.string)
        } else if let sf = r.fields(pn, path: f.child("process"), allowed: selectorKeys, what: "a process name or a mapping") {
            selector = Self.selector(sf, reader: r)
        } else {
            selector = nil
        }
        var t = ProcessTarget(selector: selector ?? .pid(0))
        if let hn = f.values["host"], case .mapping = hn {
            guard let hf = r.fields(hn, path: f.child("host"), allowed: ["role", "resolve"], what: "a host name or {role, resolve}") else {
                return nil
            }
            let role = r.string(hf, "role", required: true)
            let resolve = hf.value("resolve", required: true, reader: r).flatMap {
                StepReader(reader: r).commandSpec($0, path: hf.child("resolve"), extra: []).0
            }
            guard let role, let resolve else { return nil }
            t.role = RoleTarget(role: role, resolve: resolve)
            t.host = ""
        } else {
            t.host = r.string(f, "host") ?? "local"
        }
        let count = r.int(f, "count", range: 1...10_000)
        let all = r.bool(f, "all")
        if count != nil, all == true {
            r.error(f.keys["all"], "'\(f.path)' takes 'count' or 'all', not both")
        }
        t.multiplicity = all == true ? .all : count.map { .count($0) } ?? .one
        return selector == nil ? nil : t
    }

    /// Exactly one of the selector keys of `f`.
    static func selector(_ f: Fields, reader r: NodeReader) -> ProcessSelector? {
        let present = selectorKeys.filter { f.has($0) }
        guard present.count == 1, let key = present.first else {
            if present.isEmpty {
                r.error(f.node, "'\(f.path)' must select processes by one of: \(selectorKeys.joined(separator: ", "))")
            } else {
                r.error(f.keys[present[1]], "'\(f.path)' selects by \(present.joined(separator: " and ")); use exactly one")
            }
            return nil
        }
        switch key {
        case "name":
            guard let n = r.string(f, "name"), !n.isEmpty else { return nil }
            return .name(n)
        case "pid":
            guard let p = r.int(f, "pid", range: 1...4_194_304) else { return nil }
            return .pid(Int32(p))
        case "pidfile":
            return r.string(f, "pidfile").map { .pidFile($0) }
        case "cmdline":
            guard let re = r.string(f, "cmdline") else { return nil }
            if re.isEmpty || (try? NSRegularExpression(pattern: re)) == nil {
                r.error(f.values["cmdline"], "'\(f.child("cmdline"))' is not a valid regular expression: '\(re)'")
                return nil
            }
            return .cmdline(re)
        default:
            return r.int(f, "port", range: 1...65_535).map { .port($0) }
        }
    }

    /// The host must be declared (unless a role picks it); a role resolved `on` a host needs a lab host.
    func validate(_ v: FaultValidation, key: String) {
        let declared = v.hosts.names
        if role == nil, !declared.contains(host) {
            let path = "\(v.path).\(key).host"
            v.error(at: path, "unknown host '\(host)' in '\(path)' \(Suggest.hint(for: host, in: declared))")
        }
        let labHosts = v.hosts.labHosts
        if let on = role?.on, !labHosts.contains(on) {
            let path = "\(v.path).\(key).host.on"
            v.error(at: path, "'\(path)' must name a lab host, got '\(on)' \(Suggest.hint(for: on, in: labHosts))")
        }
    }

    /// A role target may resolve to any lab host: each needs its agent before the fault fires.
    func hosts(in hosts: HostSet) -> [String] { role == nil ? [host] : hosts.labHosts }

    /// Two faults on the same processes of one host may not hold at once.
    var exclusion: FaultExclusion {
        FaultExclusion(key: "process \(host) \(selector)", what: "the same processes (\(selector)) of host '\(host)'")
    }

    /// `web1`, or how the host will be found.
    var whereText: String {
        guard let r = role else { return host }
        return "the host with role '\(r.role)' (resolved when the fault fires by: \(r.resolve))"
    }
}

/// A host chosen when the fault fires: `resolve` prints a host name or a lab host's address
/// (e.g. Sentinel's `get-master-addr-by-name`); the first one it names is the target.
public struct RoleTarget: Codable, Equatable, Sendable {
    public var role: String
    public var resolve: CommandSpec
    /// A lab host to run `resolve` on (inside its namespaces); nil runs it where the runner is.
    public var on: String?

    public init(role: String, resolve: CommandSpec, on: String? = nil) {
        self.role = role
        self.resolve = resolve
        self.on = on
    }
}
