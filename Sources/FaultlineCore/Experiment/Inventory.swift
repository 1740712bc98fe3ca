import Foundation

/// Hosts and groups from an Ansible inventory: static INI, static YAML, or the JSON that
/// `ansible-inventory --list` prints (for dynamic inventories). Each host becomes an ssh host
/// (`ansible_host`, `ansible_user`, `ansible_port`, `ansible_ssh_private_key_file`,
/// `ansible_become`); each group can be named as `group:NAME` wherever hosts are listed.
///
/// An inventory is often generated from cloud tags that many people can set, so it is read as
/// an experiment is: at most 1 MiB, YAML through the same alias and size budgets, every ssh
/// field checked as the experiment's own `ssh:` is, every problem at its line and column, and
/// group expansion bounded in work.
public struct Inventory: Equatable, Sendable {
    public static let maxBytes = 1 << 20
    /// Hosts one inventory may hold, and group memberships (a host in a group, children's
    /// included) all its groups may hold together.
    public static let maxHosts = 10_000
    public static let maxMemberships = 500_000

    /// Host names in the order the inventory gives them.
    public var order: [String] = []
    public var hosts: [String: SSHTarget] = [:]
    /// Group → its hosts, children's included (`all` and `ungrouped` as Ansible has them).
    public var groups: [String: [String]] = [:]
    /// Groups whose variables say `faultline_quorum=true`: a majority of their hosts must stay.
    public var quorums: [String] = []

    /// Reads the inventory at `path` (named by an experiment: it must be no secret, see
    /// `InputFile`); its problems are its own FILE:LINE:COL diagnostics.
    public static func load(path: String) -> Result<Inventory, ValidationFailure> {
        switch InputFile.text(path, maxBytes: maxBytes, named: true) {
        case .success(let text): return parse(text, file: path)
        case .failure(.tooLarge):
            return .failure(ValidationFailure([Diagnostic(file: path, line: 1, column: 1, message: "an inventory is at most 1 MiB")]))
        case .failure(let p): return .failure(ValidationFailure([Diagnostic(file: path, line: 1, column: 1, message: "\(p)")]))
        }
    }

    /// Reads `text` (its format from the file's extension, else its first character).
    public static func parse(_ text: String, file: String) -> Result<Inventory, ValidationFailure> {
        let trimmed = text.drop { $0.isWhitespace }
        let read: Result<(RawInventory, [Diagnostic]), ValidationFailure>
        if file.hasSuffix(".json") || trimmed.hasPrefix("{") || file.hasSuffix(".yaml") || file.hasSuffix(".yml") {
            read = InventoryStructured.read(text, file: file)
        } else {
            read = .success(InventoryINI.read(text, file: file))
        }
        // What could be read is built and checked too: every problem at once, in line order.
        return read.flatMap { raw, problems in
            let built = build(raw, file: file)
            let all = (problems + built.failureDiagnostics).sorted { ($0.line, $0.column) < ($1.line, $1.column) }
            return all.isEmpty ? built : .failure(ValidationFailure(all))
        }
    }

    static func build(_ raw: RawInventory, file: String) -> Result<Inventory, ValidationFailure> {
        var problems: [Diagnostic] = []
        func fail(_ at: Position, _ message: String) {
            problems.append(Diagnostic(file: file, line: at.line, column: at.column, message: message))
        }
        guard raw.order.count <= maxHosts else {
            return .failure(
                ValidationFailure([
                    Diagnostic(
                        file: file, line: 1, column: 1, message: "an inventory holds at most \(maxHosts) hosts, this one \(raw.order.count)"
                    )
                ]))
        }
        var inv = Inventory()
        inv.order = raw.order
        guard let m = members(raw) else {
            return .failure(
                ValidationFailure([
                    Diagnostic(
                        file: file, line: 1, column: 1,
                        message:
                            "the inventory's groups hold more than \(maxMemberships) host memberships (children's hosts counted in each parent)"
                    )
                ]))
        }
        var groupsOf = [[Int]](repeating: [], count: raw.order.count)
        for (g, list) in m.lists.enumerated() {
            let name = m.names[g]
            inv.groups[name] = list.map { raw.order[$0] }
            guard name != "all", name != "ungrouped" else { continue }
            for h in list { groupsOf[h].append(g) }
        }
        for (g, vars) in raw.groupVars.sorted(by: { $0.key < $1.key }) {
            guard let v = vars["faultline_quorum"] else { continue }
            switch v.text.lowercased() {
            case "true", "yes", "1": inv.quorums.append(g)
            case "false", "no", "0": break
            default: fail(v.at, "group \(shown: g): 'faultline_quorum' must be true or false, got \(shown: v.text)")
            }
        }
        inv.groups["all"] = raw.order
        inv.groups["ungrouped"] = raw.order.indices.filter { groupsOf[$0].isEmpty }.map { raw.order[$0] }
        for (i, h) in raw.order.enumerated() {
            // Group variables, all first, then each group alphabetically (the names are sorted),
            // then the host's own.
            var vars = raw.groupVars["all"] ?? [:]
            for g in groupsOf[i] { vars.merge(raw.groupVars[m.names[g]] ?? [:]) { _, new in new } }
            vars.merge(raw.hostVars[h] ?? [:]) { _, new in new }
            if let t = InventoryHost.target(h, vars: vars, at: raw.positions[h] ?? Position(line: 1, column: 1), fail: fail) {
                inv.hosts[h] = t
            }
        }
        return problems.isEmpty ? .success(inv) : .failure(ValidationFailure(problems))
    }

    /// Every group (names sorted) and its hosts (indices into `raw.order`), children's
    /// included, depth first and each once; nil when the walk would pass `maxMemberships`
    /// steps (deeply nested groups each count every group and host beneath them).
    static func members(_ raw: RawInventory) -> (names: [String], lists: [[Int]])? {
        var all = Set(raw.direct.keys).union(raw.children.keys)
        for list in raw.children.values { all.formUnion(list) }
        let names = all.sorted()
        var gid: [String: Int] = [:]
        for (i, g) in names.enumerated() { gid[g] = i }
        var hid: [String: Int] = [:]
        for (i, h) in raw.order.enumerated() { hid[h] = i }
        let direct = names.map { g in (raw.direct[g] ?? []).compactMap { hid[$0] } }
        let children = names.map { g in (raw.children[g] ?? []).compactMap { gid[$0] } }
        var groupMark = [Int](repeating: -1, count: names.count)
        var hostMark = [Int](repeating: -1, count: raw.order.count)
        var budget = maxMemberships
        var lists: [[Int]] = []
        lists.reserveCapacity(names.count)
        for g in names.indices {
            var list: [Int] = []
            var stack = [g]
            while let cur = stack.popLast() {
                guard groupMark[cur] != g else { continue }
                groupMark[cur] = g
                budget -= 1 + direct[cur].count
                if budget < 0 { return nil }
                for h in direct[cur] where hostMark[h] != g {
                    hostMark[h] = g
                    list.append(h)
                }
                // Children in their written order (the stack pops the last first).
                stack += children[cur].reversed()
            }
            lists.append(list)
        }
        return (names, lists)
    }

    /// Names an inventory may give a host or group: letters, digits, '-', '_', '.' (at most 64),
    /// starting with a letter or digit.
    static func isName(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard let first = b.first, b.count <= 64, YAMLText.letter(first) || YAMLText.digit(first) else { return false }
        return b.allSatisfy { YAMLText.letter($0) || YAMLText.digit($0) || $0 == 45 || $0 == 95 || $0 == 46 }
    }
}

extension Result where Failure == ValidationFailure {
    var failureDiagnostics: [Diagnostic] {
        if case .failure(let f) = self { return f.diagnostics }
        return []
    }
}

/// What an inventory says, before its groups are expanded and its variables applied.
struct RawInventory {
    var order: [String] = []
    var positions: [String: Position] = [:]
    var direct: [String: [String]] = [:]
    var children: [String: [String]] = [:]
    var groupVars: [String: [String: InventoryValue]] = [:]
    var hostVars: [String: [String: InventoryValue]] = [:]

    mutating func addHost(_ h: String, to group: String, at: Position) {
        if positions[h] == nil {
            order.append(h)
            positions[h] = at
        }
        direct[group, default: []].append(h)
    }
}

/// A variable's value and where it was written.
struct InventoryValue: Equatable {
    var text: String
    var at: Position
}
