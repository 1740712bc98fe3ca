import Foundation
import Yams

extension ProcessTarget {
    static let keys = ["host", "process", "count", "all", "blast_radius"]

    /// A `cmdline` pattern that takes several processes must hold a match to at least this much
    /// literal text; a vaguer one (`.`, `^/`, `[a-z]+`) can match any process of a host.
    static let specificLiteral = 3

    static let selectorKeys = ["name", "pid", "pidfile", "cmdline", "port"]

    /// Reads `host`, `process`, `count` and `all` from a kind's fields.
    static func read(_ f: Fields, reader r: NodeReader) -> ProcessTarget? {
        guard let pn = f.value("process", required: true, reader: r) else { return nil }
        let selector: ProcessSelector?
        if case .scalar = pn {
            selector = name(pn, path: f.child("process"), reader: r).map { .name($0) }
        } else if let sf = r.fields(pn, path: f.child("process"), allowed: selectorKeys, what: "a process name or a mapping") {
            selector = Self.selector(sf, reader: r)
        } else {
            selector = nil
        }
        var t = ProcessTarget(selector: selector ?? .pid(0))
        if let hn = f.values["host"], case .mapping = hn {
            guard let role = RoleTarget.read(hn, path: f.child("host"), reader: r) else { return nil }
            t.role = role
            t.host = ""
        } else if let hn = f.values["host"], case .sequence = hn {
            guard let list = r.stringList(hn, path: f.child("host")), !list.isEmpty else {
                r.error(hn, "'\(f.child("host"))' must list at least one host")
                return nil
            }
            if Set(list).count != list.count { r.error(hn, "'\(f.child("host"))' names a host twice") }
            t.host = list[0]
            t.fanOut = list.count > 1 || HostSet.isSet(list[0]) ? list : nil
        } else {
            t.host = r.string(f, "host") ?? "local"
            if HostSet.isSet(t.host) { t.fanOut = [t.host] }
        }
        let count = r.int(f, "count", range: 1...10_000)
        let all = r.bool(f, "all")
        if count != nil, all == true {
            r.error(f.keys["all"], "'\(f.path)' takes 'count' or 'all', not both")
        }
        t.multiplicity = all == true ? .all : count.map { .count($0) } ?? .one
        if let b = r.string(f, "blast_radius") {
            if b == "host" {
                t.wholeHost = true
            } else {
                r.error(
                    f.values["blast_radius"],
                    "'\(f.child("blast_radius"))' must be 'host' (the only radius a fault may name), got \(shown: b)")
            }
        }
        guard let selector else { return nil }
        if !t.wholeHost, let vague = Self.vagueness(selector) {
            let takes: String?
            switch t.multiplicity {
            case .all: takes = "every process matching"
            case .count(let n) where n > 1: takes = "\(n) processes matching"
            default: takes = nil
            }
            if let takes {
                r.error(
                    f.keys["all"] ?? f.keys["count"],
                    "'\(f.path)' takes \(takes) \(selector), \(vague): it can match any process of the host; say so with 'blast_radius: host', or select by name or a pattern with more literal text"
                )
            }
        }
        return t
    }

    /// Why a selector could match any process of a host (a `cmdline` pattern held to fewer than
    /// three characters of literal text), or nil.
    static func vagueness(_ selector: ProcessSelector) -> String? {
        guard case .cmdline(let source) = selector, let p = try? Pattern(source), p.requiredLiteralLength < specificLiteral else {
            return nil
        }
        let n = p.requiredLiteralLength
        return n == 0
            ? "a pattern that needs no literal text" : "a pattern that needs only \(n) character\(n == 1 ? "" : "s") of literal text"
    }

    /// A process name: not empty (an empty name would match nothing, and the fault with it).
    /// Faults may not name faultline itself; probes (which only look) may.
    static func name(_ node: Node, path: String, reader r: NodeReader, fault: Bool = true) -> String? {
        guard case .scalar(let s) = node else {
            r.error(node, "'\(path)' must be a process name, got \(NodeReader.describe(node))")
            return nil
        }
        guard !s.string.isEmpty else {
            r.error(node, "'\(path)' must name a process (the name of its executable), got ''")
            return nil
        }
        guard s.string != "faultline" || !fault else {
            r.error(node, "'\(path)' is faultline itself: its runner, agents and lab inits are never targets")
            return nil
        }
        return s.string
    }

    /// Exactly one of the selector keys of `f`.
    static func selector(_ f: Fields, reader r: NodeReader, fault: Bool = true) -> ProcessSelector? {
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
            return f.values["name"].flatMap { name($0, path: f.child("name"), reader: r, fault: fault) }.map { .name($0) }
        case "pid":
            guard let p = r.int(f, "pid", range: 1...4_194_304) else { return nil }
            guard p != 1 || !fault else {
                r.error(f.values["pid"], "'\(f.child("pid"))' is 1, the host's init: faultline never signals PID 1")
                return nil
            }
            return .pid(Int32(p))
        case "pidfile":
            guard let p = r.string(f, "pidfile") else { return nil }
            guard !p.isEmpty else {
                r.error(f.values["pidfile"], "'\(f.child("pidfile"))' must be the path of a pid file, got ''")
                return nil
            }
            return .pidFile(p)
        case "cmdline":
            guard let re = r.string(f, "cmdline") else { return nil }
            guard !re.isEmpty else {
                r.error(f.values["cmdline"], "'\(f.child("cmdline"))' must be a regular expression, got ''")
                return nil
            }
            do {
                _ = try Pattern(re)
            } catch {
                r.error(f.values["cmdline"], "'\(f.child("cmdline"))' is not a valid regular expression: \(shown: re): \(error)")
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
        for h in fanOut ?? [host] where role == nil && !declared.contains(h) {
            let path = "\(v.path).\(key).host"
            if HostSet.isSet(h) {
                if let p = v.hosts.problem(h, path: path) { v.error(at: path, p) }
                continue
            }
            v.error(at: path, "unknown host \(shown: h) in '\(path)' \(Suggest.hint(for: h, in: declared))")
        }
        let labHosts = v.hosts.labHosts
        if let on = role?.on, !labHosts.contains(on) {
            let path = "\(v.path).\(key).host.on"
            v.error(at: path, "'\(path)' must name a lab host, got \(shown: on) \(Suggest.hint(for: on, in: labHosts))")
        }
        role?.validate(v, path: "\(v.path).\(key).host", allowed: v.hosts.names, what: "a host of this experiment")
    }

    /// A role target may resolve to any of its candidates (by default every lab and ssh host):
    /// each needs its agent before the fault fires.
    func hosts(in hosts: HostSet) -> [String] {
        guard let role else { return fanOut.map(hosts.expand) ?? [host] }
        return role.candidates(hosts, fallback: hosts.remoteHosts)
    }

    /// Two faults on the same processes of one host may not hold at once.
    var exclusion: FaultExclusion {
        let on = (fanOut ?? [host]).joined(separator: ",")
        return FaultExclusion(key: "process \(on) \(selector)", what: "the same processes (\(selector)) of host \(shown: on)")
    }

    /// The same target on each of its hosts (groups and regions expanded), one per host.
    public func perHost(_ hosts: HostSet) -> [ProcessTarget] {
        guard let many = fanOut else { return [self] }
        return hosts.expand(many).map { h in
            var t = self
            t.host = h
            t.fanOut = nil
            return t
        }
    }
}

extension RoleTarget {
    /// The hosts the role may resolve to: `among` expanded, or `fallback`.
    public func candidates(_ hosts: HostSet, fallback: [String]) -> [String] {
        among.map(hosts.expand) ?? fallback
    }

    /// `{role: NAME, resolve: COMMAND, among: [HOSTS]}`, written where a host name may stand.
    static func read(_ node: Node, path: String, reader r: NodeReader) -> RoleTarget? {
        guard
            let f = r.fields(node, path: path, allowed: ["role", "resolve", "among"], what: "a host name or {role, resolve, among}")
        else {
            return nil
        }
        let role = r.string(f, "role", required: true)
        let resolve = f.value("resolve", required: true, reader: r).flatMap {
            StepReader(reader: r).commandSpec($0, path: f.child("resolve"), extra: []).0
        }
        var among: [String]?
        if let n = f.values["among"] {
            if case .scalar = n {
                among = r.string(f, "among").map { [$0] }
            } else if let list = r.stringList(n, path: f.child("among")) {
                if list.isEmpty { r.error(n, "'\(f.child("among"))' must name at least one host or group") }
                if Set(list).count != list.count { r.error(n, "'\(f.child("among"))' names a host twice") }
                among = list
            }
        }
        guard let role, let resolve else { return nil }
        return RoleTarget(role: role, resolve: resolve, among: among)
    }

    /// Each of `among` must be a host of `allowed` or a group or region of them.
    func validate(_ v: FaultValidation, path: String, allowed: [String], what: String) {
        guard let among else { return }
        let at = "\(path).among"
        for name in among {
            if HostSet.isSet(name) {
                if let p = v.hosts.problem(name, path: at) {
                    v.error(at: at, p)
                } else if let outside = v.hosts.expand([name]).first(where: { !allowed.contains($0) }) {
                    v.error(at: at, "'\(at)' names \(shown: name), whose host \(shown: outside) is not \(what)")
                }
            } else if !allowed.contains(name) {
                v.error(at: at, "'\(at)' names \(shown: name), which is not \(what) \(Suggest.hint(for: name, in: allowed))")
            }
        }
    }
}
