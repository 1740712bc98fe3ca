import Foundation
import Yams

/// Reads timeline entries (faults, actions, rollbacks) and the pieces they share.
struct StepReader {
    let reader: NodeReader
    static let selectorKeys = ["name", "pid", "pidfile", "cmdline", "port"]
    static let faultCommon = ["name", "at", "duration"]

    func fault(_ node: Node, path: String, index: Int) -> FaultStep? {
        let r = reader
        guard case .mapping(let m) = node else {
            r.error(node, "'\(path)' must be a fault mapping, got \(NodeReader.describe(node))")
            return nil
        }
        // An unknown key here is most likely a misspelt fault kind: say so, and name the kinds.
        guard let f = r.fields(node, path: path, allowed: Self.faultCommon + FaultSpec.kinds, unknown: "fault kind") else {
            return nil
        }
        let kinds = FaultSpec.kinds.filter { f.has($0) }
        let at = r.duration(f, "at", required: true)
        let duration = r.duration(f, "duration", positive: true)
        guard kinds.count == 1, let kind = kinds.first, let body = f.values[kind] else {
            if kinds.isEmpty, m.count == f.values.count {
                r.error(node, "fault '\(path)' needs one kind (valid: \(FaultSpec.kinds.joined(separator: ", ")))")
            } else if kinds.count > 1 {
                r.error(
                    f.keys[kinds[1]], "fault '\(path)' has more than one kind: \(kinds.joined(separator: ", ")); use one entry per fault")
            }
            return nil
        }
        let spec = kind == "partition" ? partition(body, path: f.child(kind)) : processFault(body, path: f.child(kind), kind: kind)
        guard let spec else { return nil }
        if kind == "pause", duration == nil, !f.has("duration") {
            r.error(node, "fault '\(path)' (pause) needs 'duration': how long the process stays stopped")
        }
        let name = r.string(f, "name") ?? "\(kind)-\(index + 1)"
        guard let at else { return nil }
        return FaultStep(name: name, at: at, duration: duration, spec: spec)
    }

    func processFault(_ node: Node, path: String, kind: String) -> FaultSpec? {
        let r = reader
        let allowed = ["host", "process", "count", "all"] + (kind == "kill" ? ["signal"] : [])
        guard let f = r.fields(node, path: path, allowed: allowed) else { return nil }
        guard let pn = f.value("process", required: true, reader: r) else { return nil }
        let selector: ProcessSelector?
        if case .scalar(let s) = pn {
            selector = .name(s.string)
        } else if let sf = r.fields(pn, path: f.child("process"), allowed: Self.selectorKeys, what: "a process name or a mapping") {
            selector = self.selector(sf)
        } else {
            selector = nil
        }
        var p = ProcessFault(selector: selector ?? .pid(0))
        if let hn = f.values["host"], case .mapping = hn {
            guard let hf = r.fields(hn, path: f.child("host"), allowed: ["role", "resolve"], what: "a host name or {role, resolve}") else {
                return nil
            }
            let role = r.string(hf, "role", required: true)
            let resolve = hf.value("resolve", required: true, reader: r).flatMap { commandSpec($0, path: hf.child("resolve"), extra: []).0 }
            guard let role, let resolve else { return nil }
            p.role = RoleTarget(role: role, resolve: resolve)
            p.host = ""
        } else {
            p.host = r.string(f, "host") ?? "local"
        }
        let count = r.int(f, "count", range: 1...10_000)
        let all = r.bool(f, "all")
        if count != nil, all == true {
            r.error(f.keys["all"], "'\(path)' takes 'count' or 'all', not both")
        }
        p.multiplicity = all == true ? .all : count.map { .count($0) } ?? .one
        if kind == "kill", let sig = signal(f) {
            (p.signal, p.signalName) = sig
        }
        if kind == "pause" { (p.signal, p.signalName) = (19, "STOP") }
        guard selector != nil else { return nil }
        return kind == "kill" ? .kill(p) : .pause(p)
    }

    /// One of `groups`, `isolate`, `from`+`to`, or a generated `shape` (with an optional `seed`).
    func partition(_ node: Node, path: String) -> FaultSpec? {
        let r = reader
        guard let f = r.fields(node, path: path, allowed: ["groups", "isolate", "from", "to", "shape", "seed"]) else { return nil }
        let forms = [["groups"], ["isolate"], ["from", "to"], ["shape"]].filter { $0.contains { f.has($0) } }
        guard forms.count == 1, let form = forms.first else {
            r.error(
                node, "'\(path)' takes one of: groups, isolate, from and to, shape (\(PartitionSpec.shapeNames.joined(separator: ", ")))")
            return nil
        }
        let seed = r.int(f, "seed", range: 0...Int.max).map { UInt64($0) } ?? 0
        if f.has("seed"), form != ["shape"] { r.error(f.keys["seed"], "'\(path).seed' only applies to a generated 'shape'") }
        let shape: PartitionSpec.Shape?
        switch form {
        case ["groups"]:
            shape = groups(f.values["groups"], path: f.child("groups")).map { .groups($0) }
        case ["isolate"]:
            shape = r.string(f, "isolate").map { .isolate($0) }
        case ["from", "to"]:
            let from = hostList(f, "from")
            let to = hostList(f, "to")
            guard let from, let to else { return nil }
            shape = .oneWay(from: from, to: to)
        default:
            let name = r.string(f, "shape") ?? ""
            switch name {
            case "halves": shape = .halves
            case "majorities-ring": shape = .majoritiesRing
            case "bridge": shape = .bridge
            default:
                r.error(
                    f.values["shape"],
                    "'\(path).shape' must be one of \(PartitionSpec.shapeNames.joined(separator: ", ")), got '\(name)' \(Suggest.hint(for: name, in: PartitionSpec.shapeNames))"
                )
                shape = nil
            }
        }
        return shape.map { .partition(PartitionSpec(shape: $0, seed: seed)) }
    }

    /// A host name or a list of them.
    func hostList(_ f: Fields, _ key: String) -> [String]? {
        guard let node = f.value(key, required: true, reader: reader) else { return nil }
        if case .scalar(let s) = node { return [s.string] }
        return reader.stringList(node, path: f.child(key))
    }

    func groups(_ node: Node?, path: String) -> [[String]]? {
        guard let node, case .sequence(let outer) = node, outer.count >= 2 else {
            reader.error(node, "'\(path)' must be a list of at least two host lists, like [[n1], [n2, n3]]")
            return nil
        }
        var out: [[String]] = []
        for (i, g) in outer.enumerated() {
            guard let hosts = reader.stringList(g, path: "\(path)[\(i)]") else { return nil }
            out.append(hosts)
        }
        return out
    }

    /// `KILL`, `SIGKILL`, `kill` or a number.
    func signal(_ f: Fields) -> (Int32, String)? {
        guard let node = f.values["signal"], let text = node.string else { return nil }
        if let n = Int32(text), let entry = Signals.byName.first(where: { $0.value == n }) { return (n, entry.key) }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        if let n = Signals.byName[name] {
            if n == 19 || n == 18 {
                reader.error(node, "'\(f.child("signal"))' '\(text)' would not kill; use the 'pause' fault to stop and continue a process")
                return nil
            }
            return (n, name)
        }
        reader.error(
            node,
            "'\(f.child("signal"))' must be a signal name or number, got '\(text)' \(Suggest.hint(for: name, in: Signals.byName.keys.sorted()))"
        )
        return nil
    }

    /// Exactly one of the selector keys of `f`.
    func selector(_ f: Fields) -> ProcessSelector? {
        let r = reader
        let present = Self.selectorKeys.filter { f.has($0) }
        guard present.count == 1, let key = present.first else {
            if present.isEmpty {
                r.error(f.node, "'\(f.path)' must select processes by one of: \(Self.selectorKeys.joined(separator: ", "))")
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

    func action(_ node: Node, path: String, index: Int, prefix: String, timed: Bool) -> ActionStep? {
        let r = reader
        let allowed = (timed ? ["name", "at"] : ["name"]) + ["command", "timeout", "on"]
        guard let f = r.fields(node, path: path, allowed: allowed, what: "a mapping with 'command'") else { return nil }
        let at = timed ? r.duration(f, "at", required: true) : 0
        let timeout = r.duration(f, "timeout", positive: true)
        guard let cn = f.value("command", required: true, reader: r) else { return nil }
        guard let spec = commandSpec(cn, path: f.child("command"), extra: []).0, let at else { return nil }
        return ActionStep(
            name: r.string(f, "name") ?? "\(prefix)-\(index + 1)", at: at, command: spec, timeout: timeout ?? 30_000_000_000,
            on: r.string(f, "on"))
    }

    /// A list is argv; a mapping has `argv:` or `shell:` (the only way a shell is used) plus `extra` keys.
    func commandSpec(_ node: Node, path: String, extra: [String]) -> (CommandSpec?, Fields?) {
        let r = reader
        if case .sequence = node {
            guard let argv = r.stringList(node, path: path) else { return (nil, nil) }
            guard !argv.isEmpty, !argv[0].isEmpty else {
                r.error(node, "'\(path)' must name a program: the list is empty")
                return (nil, nil)
            }
            return (.argv(argv), nil)
        }
        guard
            let f = r.fields(
                node, path: path, allowed: ["argv", "shell"] + extra, what: "a list (argv) or a mapping with 'argv' or 'shell'")
        else {
            return (nil, nil)
        }
        switch (f.values["argv"], r.string(f, "shell")) {
        case (let a?, nil):
            guard let argv = r.stringList(a, path: f.child("argv")) else { return (nil, f) }
            guard !argv.isEmpty else {
                r.error(a, "'\(f.child("argv"))' must name a program: the list is empty")
                return (nil, f)
            }
            return (.argv(argv), f)
        case (nil, let s?):
            return (.shell(s), f)
        case (.some, .some):
            r.error(f.keys["shell"], "'\(path)' takes 'argv' or 'shell', not both")
        case (nil, nil):
            r.error(node, "'\(path)' needs 'argv' (a list) or 'shell' (a script for /bin/sh)")
        }
        return (nil, f)
    }
}
