import Foundation

/// Ansible's static INI inventory: `[group]` sections of host lines (`db1 ansible_host=… k=v`),
/// `[group:vars]` of `k=v` lines and `[group:children]` of group names. One pass, every problem
/// at its line and column.
enum InventoryINI {
    static func read(_ text: String, file: String) -> (RawInventory, [Diagnostic]) {
        var raw = RawInventory()
        var problems: [Diagnostic] = []
        var section = "ungrouped"
        var kind = "hosts"
        for (i, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNo = i + 1
            func fail(_ column: Int, _ message: String) {
                problems.append(Diagnostic(file: file, line: lineNo, column: column, message: message))
            }
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let indent = line.prefix { $0 == " " || $0 == "\t" }.count
            let body = line.dropFirst(indent)
            if body.isEmpty || body.hasPrefix("#") || body.hasPrefix(";") { continue }
            if body.hasPrefix("[") {
                let trimmed = body.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
                guard trimmed.last == "]" else {
                    fail(indent + 1, "a section must end with ']'")
                    continue
                }
                let name = String(trimmed.dropFirst().dropLast())
                let parts = name.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                section = parts[0]
                kind = parts.count > 1 ? parts[1] : "hosts"
                if parts.count > 1, !["vars", "children"].contains(kind) {
                    fail(indent + 1, "section \(shown: "[" + name + "]"): \(shown: ":" + kind) is not :vars or :children")
                    kind = "skip"
                } else if !Inventory.isName(section) {
                    fail(indent + 2, "group name \(shown: section) is not a name (letters, digits, '-', '_', '.')")
                    kind = "skip"
                } else if kind == "hosts" {
                    raw.direct[section, default: []] += []
                }
                continue
            }
            guard let words = words(line) else {
                fail(indent + 1, "an unterminated quote")
                continue
            }
            switch kind {
            case "skip": continue
            case "vars":
                guard let (k, v) = pair(String(body), column: indent + 1) else {
                    fail(indent + 1, "a variable must be 'key=value'")
                    continue
                }
                raw.groupVars[section, default: [:]][k] = InventoryValue(text: v, at: Position(line: lineNo, column: indent + 1))
            case "children":
                let (child, column) = words[0]
                guard Inventory.isName(child) else {
                    fail(column, "group name \(shown: child) is not a name (letters, digits, '-', '_', '.')")
                    continue
                }
                raw.children[section, default: []].append(child)
            default:
                let (host, column) = words[0]
                if host.contains("[") {
                    fail(column, "host ranges (\(shown: host)) are not supported: list the hosts, or use 'ansible-inventory --list'")
                    continue
                }
                guard Inventory.isName(host) else {
                    fail(column, "\(shown: host) is not a host name (letters, digits, '-', '_', '.')")
                    continue
                }
                raw.addHost(host, to: section, at: Position(line: lineNo, column: column))
                for (w, c) in words.dropFirst() {
                    guard let (k, v) = pair(w, column: c) else {
                        fail(c, "\(shown: w) must be 'key=value'")
                        continue
                    }
                    raw.hostVars[host, default: [:]][k] = InventoryValue(text: v, at: Position(line: lineNo, column: c))
                }
            }
        }
        return (raw, problems)
    }

    /// Words separated by spaces, each with its 1-based column; a quoted part is kept whole
    /// (quotes removed); nil for an open quote.
    static func words(_ line: Substring) -> [(String, Int)]? {
        var out: [(String, Int)] = []
        var cur = ""
        var start = 0
        var quote: Character?
        for (i, c) in line.enumerated() {
            if let q = quote {
                if c == q { quote = nil } else { cur.append(c) }
            } else if c == "\"" || c == "'" {
                if cur.isEmpty { start = i + 1 }
                quote = c
            } else if c == " " || c == "\t" {
                if !cur.isEmpty { out.append((cur, start)) }
                cur = ""
            } else {
                if cur.isEmpty { start = i + 1 }
                cur.append(c)
            }
        }
        if quote != nil { return nil }
        if !cur.isEmpty { out.append((cur, start)) }
        return out
    }

    static func pair(_ w: String, column: Int) -> (String, String)? {
        guard let eq = w.firstIndex(of: "=") else { return nil }
        let k = w[..<eq].trimmingCharacters(in: .whitespaces)
        var v = w[w.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        if v.count >= 2, let f = v.first, f == "\"" || f == "'", v.last == f { v = String(v.dropFirst().dropLast()) }
        return k.isEmpty ? nil : (k, v)
    }
}
