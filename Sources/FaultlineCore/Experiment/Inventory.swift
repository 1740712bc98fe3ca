import Foundation
import Yams

/// Hosts and groups from an Ansible inventory: static INI, static YAML, or the JSON that
/// `ansible-inventory --list` prints (for dynamic inventories). Each host becomes an ssh host
/// (`ansible_host`, `ansible_user`, `ansible_port`, `ansible_ssh_private_key_file`,
/// `ansible_become`); each group can be named as `group:NAME` wherever hosts are listed.
public struct Inventory: Equatable, Sendable {
    /// Host names in the order the inventory gives them.
    public var order: [String] = []
    public var hosts: [String: SSHTarget] = [:]
    /// Group → its hosts, children's included (`all` and `ungrouped` as Ansible has them).
    public var groups: [String: [String]] = [:]

    public struct Problem: Error, Sendable {
        public var line: Int?
        public var message: String
    }

    /// Reads `text` (its format from the file's extension, else its first character).
    public static func parse(_ text: String, file: String) -> Result<Inventory, Problem> {
        let trimmed = text.drop { $0.isWhitespace }
        if file.hasSuffix(".json") || trimmed.hasPrefix("{") { return structured(text, json: true) }
        if file.hasSuffix(".yaml") || file.hasSuffix(".yml") { return structured(text, json: false) }
        return ini(text)
    }

    // MARK: INI

    static func ini(_ text: String) -> Result<Inventory, Problem> {
        var direct: [String: [String]] = [:]
        var children: [String: [String]] = [:]
        var groupVars: [String: [String: String]] = [:]
        var hostVars: [String: [String: String]] = [:]
        var order: [String] = []
        var section = "ungrouped"
        var kind = "hosts"
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else { return .failure(Problem(line: i + 1, message: "a section must end with ']'")) }
                let name = String(line.dropFirst().dropLast())
                let parts = name.split(separator: ":", maxSplits: 1).map(String.init)
                section = parts[0]
                kind = parts.count > 1 ? parts[1] : "hosts"
                guard parts.count == 1 || ["vars", "children"].contains(kind) else {
                    return .failure(Problem(line: i + 1, message: "section '[\(name)]': ':\(kind)' is not :vars or :children"))
                }
                guard isName(section) else { return .failure(Problem(line: i + 1, message: "group name '\(section)' is not a name")) }
                if kind == "hosts" { direct[section, default: []] += [] }
                continue
            }
            guard let words = splitWords(line) else { return .failure(Problem(line: i + 1, message: "an unterminated quote")) }
            switch kind {
            case "vars":
                guard let (k, v) = pair(line) else { return .failure(Problem(line: i + 1, message: "a variable must be 'key=value'")) }
                groupVars[section, default: [:]][k] = v
            case "children":
                children[section, default: []].append(words[0])
            default:
                let host = words[0]
                if host.contains("[") {
                    return .failure(Problem(line: i + 1, message: "host ranges ('\(host)') are not supported: list the hosts"))
                }
                guard isName(host) else { return .failure(Problem(line: i + 1, message: "'\(host)' is not a host name")) }
                if hostVars[host] == nil { order.append(host) }
                for w in words.dropFirst() {
                    guard let (k, v) = pair(w) else {
                        return .failure(Problem(line: i + 1, message: "'\(w)' must be 'key=value'"))
                    }
                    hostVars[host, default: [:]][k] = v
                }
                if hostVars[host] == nil { hostVars[host] = [:] }
                direct[section, default: []].append(host)
            }
        }
        return build(order: order, direct: direct, children: children, groupVars: groupVars, hostVars: hostVars)
    }

    /// Words separated by spaces, a quoted word kept whole (quotes removed); nil for an open quote.
    static func splitWords(_ line: String) -> [String]? {
        var out: [String] = []
        var cur = ""
        var quote: Character?
        for c in line {
            if let q = quote {
                if c == q { quote = nil } else { cur.append(c) }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == " " || c == "\t" {
                if !cur.isEmpty { out.append(cur) }
                cur = ""
            } else {
                cur.append(c)
            }
        }
        if quote != nil { return nil }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    static func pair(_ w: String) -> (String, String)? {
        guard let eq = w.firstIndex(of: "=") else { return nil }
        let k = w[..<eq].trimmingCharacters(in: .whitespaces)
        var v = w[w.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        if v.count >= 2, let f = v.first, f == "\"" || f == "'", v.last == f { v = String(v.dropFirst().dropLast()) }
        return k.isEmpty ? nil : (k, v)
    }

    // MARK: YAML and `ansible-inventory --list` JSON

    static func structured(_ text: String, json: Bool) -> Result<Inventory, Problem> {
        guard let any = try? Yams.load(yaml: text), let root = any as? [String: Any] else {
            return .failure(Problem(line: nil, message: "not a \(json ? "JSON" : "YAML") mapping"))
        }
        var direct: [String: [String]] = [:]
        var children: [String: [String]] = [:]
        var groupVars: [String: [String: String]] = [:]
        var hostVars: [String: [String: String]] = [:]
        var order: [String] = []
        func strings(_ v: Any?) -> [String: String] {
            ((v as? [String: Any]) ?? [:]).mapValues { "\($0)" }
        }
        func addHost(_ h: String, to group: String, vars: [String: String]) {
            if hostVars[h] == nil {
                order.append(h)
                hostVars[h] = [:]
            }
            hostVars[h]?.merge(vars) { _, new in new }
            direct[group, default: []].append(h)
        }
        if let meta = root["_meta"] as? [String: Any] {
            // ansible-inventory --list: groups at the top, host lists as arrays, variables in _meta.
            let hv = (meta["hostvars"] as? [String: Any]) ?? [:]
            for (g, body) in root where g != "_meta" {
                let b = (body as? [String: Any]) ?? [:]
                for h in (b["hosts"] as? [Any])?.map({ "\($0)" }) ?? [] { addHost(h, to: g, vars: strings(hv[h])) }
                children[g] = (b["children"] as? [Any])?.map { "\($0)" } ?? []
                groupVars[g] = strings(b["vars"])
            }
        } else {
            // Static YAML: all: {hosts: {h: {vars}}, vars: {…}, children: {g: {…}}}.
            func walk(_ g: String, _ body: [String: Any]) {
                direct[g, default: []] += []
                for (h, v) in (body["hosts"] as? [String: Any]) ?? [:] { addHost(h, to: g, vars: strings(v)) }
                groupVars[g] = strings(body["vars"])
                for (c, cb) in (body["children"] as? [String: Any]) ?? [:] {
                    children[g, default: []].append(c)
                    walk(c, (cb as? [String: Any]) ?? [:])
                }
            }
            for (g, body) in root { walk(g, (body as? [String: Any]) ?? [:]) }
        }
        for h in order where !isName(h) { return .failure(Problem(line: nil, message: "'\(h)' is not a host name")) }
        return build(order: order, direct: direct, children: children, groupVars: groupVars, hostVars: hostVars)
    }

    // MARK: Both

    static func build(
        order: [String], direct: [String: [String]], children: [String: [String]], groupVars: [String: [String: String]],
        hostVars: [String: [String: String]]
    ) -> Result<Inventory, Problem> {
        var inv = Inventory()
        inv.order = order
        // A group's hosts: its own and its children's, depth first, each once (a cycle stops).
        func members(_ g: String, _ seen: inout Set<String>) -> [String] {
            guard seen.insert(g).inserted else { return [] }
            var out = direct[g] ?? []
            for c in children[g] ?? [] { out += members(c, &seen) }
            return out
        }
        var names = Set(direct.keys).union(children.keys).union(children.values.flatMap { $0 })
        names.insert("all")
        for g in names {
            var seen = Set<String>()
            var list: [String] = []
            for h in g == "all" ? order : members(g, &seen) where !list.contains(h) { list.append(h) }
            inv.groups[g] = list
        }
        inv.groups["ungrouped"] = order.filter { h in !direct.contains { $0.key != "ungrouped" && $0.key != "all" && $0.value.contains(h) }
        }
        for h in order {
            // Group variables, all first, then the host's own.
            var vars: [String: String] = groupVars["all"] ?? [:]
            for (g, list) in inv.groups.sorted(by: { $0.key < $1.key }) where g != "all" && list.contains(h) {
                vars.merge(groupVars[g] ?? [:]) { _, new in new }
            }
            vars.merge(hostVars[h] ?? [:]) { _, new in new }
            let address = vars["ansible_host"] ?? h
            var t = SSHTarget(host: address)
            guard SSHTarget.parse(address) != nil, !address.contains("@"), !address.contains(":") else {
                return .failure(Problem(line: nil, message: "host '\(h)': ansible_host '\(address)' is not an address ssh would take"))
            }
            t.user = vars["ansible_user"] ?? vars["ansible_ssh_user"]
            if let p = vars["ansible_port"] ?? vars["ansible_ssh_port"] {
                guard let n = Int(p), (1...65_535).contains(n) else {
                    return .failure(Problem(line: nil, message: "host '\(h)': ansible_port '\(p)' is not a port"))
                }
                t.port = n
            }
            t.identity = vars["ansible_ssh_private_key_file"] ?? vars["ansible_private_key_file"]
            if let b = vars["ansible_become"]?.lowercased(), ["true", "yes", "1"].contains(b) { t.become = .sudo }
            inv.hosts[h] = t
        }
        return .success(inv)
    }

    /// Names an inventory may give a host or group: letters, digits, '-', '_', '.' (at most 64).
    static func isName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64 && s.first.map { $0.isLetter || $0.isNumber } == true
            && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_.".unicodeScalars.contains($0) }
    }
}
