import Foundation
import Yams

/// Reads timeline entries (faults, actions, rollbacks) and the pieces they share.
struct StepReader {
    let reader: NodeReader
    static let faultCommon = ["name", "at", "duration"]

    func fault(_ node: Node, path: String, index: Int) -> FaultStep? {
        let r = reader
        guard case .mapping(let m) = node else {
            r.error(node, "'\(path)' must be a fault mapping, got \(NodeReader.describe(node))")
            return nil
        }
        // An unknown key here is most likely a misspelt fault kind: say so, and name the kinds.
        let keys = FaultKinds.keys
        guard let f = r.fields(node, path: path, allowed: Self.faultCommon + keys, unknown: "fault kind") else { return nil }
        let kinds = keys.filter { f.has($0) }
        let at = r.duration(f, "at", required: true)
        let duration = r.duration(f, "duration", positive: true)
        guard kinds.count == 1, let key = kinds.first, let body = f.values[key], let kind = FaultKinds.reader(for: key) else {
            if kinds.isEmpty, m.count == f.values.count {
                r.error(node, "fault '\(path)' needs one kind (valid: \(keys.joined(separator: ", ")))")
            } else if kinds.count > 1 {
                r.error(
                    f.keys[kinds[1]], "fault '\(path)' has more than one kind: \(kinds.joined(separator: ", ")); use one entry per fault")
            }
            return nil
        }
        guard let spec = kind.read(body, path: f.child(key), reader: r) else { return nil }
        let name = r.string(f, "name") ?? "\(key)-\(index + 1)"
        guard let at else { return nil }
        return FaultStep(name: name, at: at, duration: duration, spec: spec, path: path)
    }

    func action(_ node: Node, path: String, index: Int, prefix: String, timed: Bool) -> ActionStep? {
        let r = reader
        let allowed = (timed ? ["name", "at"] : ["name"]) + ["command", "timeout", "on"]
        guard let f = r.fields(node, path: path, allowed: allowed, what: "a mapping with 'command'") else { return nil }
        let at = timed ? r.duration(f, "at", required: true) : 0
        let timeout = r.duration(f, "timeout", positive: true, max: Bounds.hour)
        guard let cn = f.value("command", required: true, reader: r) else { return nil }
        guard let spec = commandSpec(cn, path: f.child("command"), extra: []).0, let at else { return nil }
        return ActionStep(
            name: r.string(f, "name") ?? "\(prefix)-\(index + 1)", at: at, command: spec, timeout: timeout ?? 30_000_000_000,
            on: r.string(f, "on"), path: path)
    }

    /// A program first, and no NUL anywhere (the kernel would cut the argument there).
    func checkArgv(_ argv: [String], _ node: Node, path: String) -> Bool {
        guard let program = argv.first, !program.isEmpty else {
            reader.error(node, "'\(path)' must name a program: \(argv.isEmpty ? "the list is empty" : "its first item is empty")")
            return false
        }
        if let i = argv.firstIndex(where: { $0.contains("\0") }) {
            reader.error(node, "'\(path)[\(i)]' must not contain a NUL byte")
            return false
        }
        return true
    }

    /// A list is argv; a mapping has `argv:` or `shell:` (the only way a shell is used) plus `extra` keys.
    func commandSpec(_ node: Node, path: String, extra: [String]) -> (CommandSpec?, Fields?) {
        let r = reader
        if case .sequence = node {
            guard let argv = r.stringList(node, path: path), checkArgv(argv, node, path: path) else { return (nil, nil) }
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
            guard let argv = r.stringList(a, path: f.child("argv")), checkArgv(argv, a, path: f.child("argv")) else { return (nil, f) }
            return (.argv(argv), f)
        case (nil, let s?):
            guard !s.contains("\0") else {
                r.error(f.values["shell"], "'\(f.child("shell"))' must not contain a NUL byte")
                return (nil, f)
            }
            return (.shell(s), f)
        case (.some, .some):
            r.error(f.keys["shell"], "'\(path)' takes 'argv' or 'shell', not both")
        case (nil, nil):
            r.error(node, "'\(path)' needs 'argv' (a list) or 'shell' (a script for /bin/sh)")
        }
        return (nil, f)
    }
}
