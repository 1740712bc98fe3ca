/// Ansible's static INI inventory: `[group]` sections of host lines (`db1 ansible_host=… k=v`),
/// `[group:vars]` of `k=v` lines and `[group:children]` of group names. One pass, every problem
/// at its line and column.
enum InventoryINI {
    static func read(_ text: String, file: String) -> (RawInventory, [Diagnostic]) {
        var raw = RawInventory()
        var problems: [Diagnostic] = []
        var section = "ungrouped"
        var kind = "hosts"
        // Bytes, not Characters: a 1 MiB inventory of 30,000 lines is read in milliseconds.
        let bytes = Array(text.utf8)
        for (i, rawLine) in bytes.split(separator: 10, omittingEmptySubsequences: false).enumerated() {
            let lineNo = i + 1
            func fail(_ column: Int, _ message: String) {
                problems.append(Diagnostic(file: file, line: lineNo, column: column, message: message))
            }
            let line = rawLine.last == 13 ? rawLine.dropLast() : rawLine
            let indent = line.prefix { $0 == 32 || $0 == 9 }.count
            let body = line.dropFirst(indent)
            guard let first = body.first, first != 35, first != 59 else { continue }  // blank, '#' or ';'
            if first == 91 {  // '['
                // Trailing blanks off by index: a reversed view would make every section line a
                // generic, non-contiguous copy (a third of the time of 8,000 sections).
                var end = body.endIndex
                while end > body.startIndex, body[end - 1] == 32 || body[end - 1] == 9 { end -= 1 }
                let trimmed = body[body.startIndex..<end]
                guard trimmed.last == 93 else {
                    fail(indent + 1, "a section must end with ']'")
                    continue
                }
                let name = String(decoding: trimmed.dropFirst().dropLast(), as: UTF8.self)
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
            // Only empty quotes (`""`): no word at all (found by the fuzzer: indexing the first
            // word of such a line trapped).
            guard !words.isEmpty || kind == "vars" else {
                fail(indent + 1, "a line with nothing but empty quotes")
                continue
            }
            switch kind {
            case "skip": continue
            case "vars":
                guard let (k, v) = pair(Array(body)) else {
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
                    guard let (k, v) = pair(Array(w.utf8)) else {
                        fail(c, "\(shown: w) must be 'key=value'")
                        continue
                    }
                    raw.hostVars[host, default: [:]][k] = InventoryValue(text: v, at: Position(line: lineNo, column: c))
                }
            }
        }
        return (raw, problems)
    }

    /// Words separated by spaces, each with its 1-based column (in characters); a quoted part
    /// is kept whole (quotes removed); nil for an open quote.
    static func words(_ line: ArraySlice<UInt8>) -> [(String, Int)]? {
        var out: [(String, Int)] = []
        var cur: [UInt8] = []
        var start = 0
        var column = 0
        var quote: UInt8?
        for c in line {
            if c & 0xC0 != 0x80 { column += 1 }
            if let q = quote {
                if c == q { quote = nil } else { cur.append(c) }
            } else if c == 34 || c == 39 {
                if cur.isEmpty { start = column }
                quote = c
            } else if c == 32 || c == 9 {
                if !cur.isEmpty { out.append((String(decoding: cur, as: UTF8.self), start)) }
                cur = []
            } else {
                if cur.isEmpty { start = column }
                cur.append(c)
            }
        }
        if quote != nil { return nil }
        if !cur.isEmpty { out.append((String(decoding: cur, as: UTF8.self), start)) }
        return out
    }

    /// `key=value` (spaces around either trimmed, one pair of quotes around the value removed).
    static func pair(_ w: [UInt8]) -> (String, String)? {
        guard let eq = w.firstIndex(of: 61) else { return nil }
        func blank(_ b: UInt8) -> Bool { b == 32 || b == 9 }
        func trimmed(_ r: Range<Int>) -> Range<Int> {
            var lo = r.lowerBound
            var hi = r.upperBound
            while lo < hi, blank(w[lo]) { lo += 1 }
            while hi > lo, blank(w[hi - 1]) { hi -= 1 }
            return lo..<hi
        }
        let k = trimmed(0..<eq)
        var v = trimmed(eq + 1..<w.count)
        if v.count >= 2, w[v.lowerBound] == 34 || w[v.lowerBound] == 39, w[v.upperBound - 1] == w[v.lowerBound] {
            v = v.lowerBound + 1..<v.upperBound - 1
        }
        return k.isEmpty ? nil : (String(decoding: w[k], as: UTF8.self), String(decoding: w[v], as: UTF8.self))
    }
}
