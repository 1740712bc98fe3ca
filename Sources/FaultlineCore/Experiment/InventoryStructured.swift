import Yams

/// Ansible's YAML inventory (`all: {hosts: {h: {vars}}, vars: {…}, children: {g: {…}}}`) and the
/// JSON `ansible-inventory --list` prints (groups at the top with host lists, variables under
/// `_meta.hostvars`). Composed by the experiment loader's own `Document`, so the same alias,
/// expansion and strict-JSON rules hold.
enum InventoryStructured {
    static func read(_ text: String, file: String) -> Result<(RawInventory, [Diagnostic]), ValidationFailure> {
        let root: Node
        switch Document.compose(text, file: file) {
        case .success(let r?): root = r
        case .success(nil):
            return .failure(ValidationFailure([Diagnostic(file: file, line: 1, column: 1, message: "the inventory is empty")]))
        case .failure(let f): return .failure(f)
        }
        var reader = Reader(file: file)
        guard case .mapping(let top) = root else {
            reader.fail(root, "an inventory must be a mapping of groups, got \(NodeReader.kind(root))")
            return .success((reader.raw, reader.problems))
        }
        if let meta = top["_meta"] {
            reader.listed(top, meta: meta)
        } else {
            for (k, v) in top {
                guard let g = reader.groupName(k) else { continue }
                reader.walk(g, v, depth: 0)
            }
        }
        return .success((reader.raw, reader.problems))
    }

    struct Reader {
        let file: String
        var raw = RawInventory()
        var problems: [Diagnostic] = []

        func isNull(_ node: Node) -> Bool {
            guard case .scalar(let s) = node, s.style == .plain || s.style == .any else { return false }
            return ["", "~", "null", "Null", "NULL"].contains(s.string)
        }

        mutating func fail(_ node: Node?, _ message: String) {
            let at = Position(node)
            problems.append(Diagnostic(file: file, line: at.line, column: at.column, message: message))
        }

        mutating func groupName(_ k: Node) -> String? {
            guard let g = k.string, Inventory.isName(g) else {
                fail(k, "group name \(NodeReader.describe(k)) is not a name (letters, digits, '-', '_', '.')")
                return nil
            }
            return g
        }

        mutating func hostName(_ k: Node) -> String? {
            guard let h = k.string, Inventory.isName(h) else {
                fail(k, "\(NodeReader.describe(k)) is not a host name (letters, digits, '-', '_', '.')")
                return nil
            }
            return h
        }

        /// A mapping of variables: scalars are kept (as text), anything else is left out unless
        /// it is one of the variables faultline reads.
        mutating func vars(_ node: Node?) -> [String: InventoryValue] {
            var out: [String: InventoryValue] = [:]
            guard let node, !isNull(node) else { return out }
            guard case .mapping(let m) = node else {
                fail(node, "variables must be a mapping, got \(NodeReader.describe(node))")
                return out
            }
            for (k, v) in m {
                guard let key = k.string else { continue }
                if case .scalar(let s) = v {
                    out[key] = InventoryValue(text: s.string, at: Position(v))
                } else if key.hasPrefix("ansible_") {
                    fail(v, "variable \(shown: key) must be a single value, got \(NodeReader.describe(v))")
                }
            }
            return out
        }

        mutating func addVars(_ node: Node?, host: String) {
            let v = vars(node)
            raw.hostVars[host, default: [:]].merge(v) { _, new in new }
        }

        mutating func addVars(_ node: Node?, group: String) {
            let v = vars(node)
            raw.groupVars[group, default: [:]].merge(v) { _, new in new }
        }

        /// Static YAML: a group's hosts (a mapping of names to variables), vars and children.
        mutating func walk(_ g: String, _ body: Node, depth: Int) {
            raw.direct[g, default: []] += []
            guard depth < 64 else {
                fail(body, "groups nest more than 64 deep")
                return
            }
            guard case .mapping(let m) = body else {
                if !isNull(body) {
                    fail(body, "group \(shown: g) must be a mapping (hosts, vars, children), got \(NodeReader.describe(body))")
                }
                return
            }
            if let hosts = m["hosts"], !isNull(hosts) {
                guard case .mapping(let hm) = hosts else {
                    fail(hosts, "'hosts' of group \(shown: g) must map host names to their variables")
                    return
                }
                for (hk, hv) in hm {
                    guard let h = hostName(hk) else { continue }
                    raw.addHost(h, to: g, at: Position(hk))
                    addVars(hv, host: h)
                }
            }
            addVars(m["vars"], group: g)
            if let children = m["children"], !isNull(children) {
                guard case .mapping(let cm) = children else {
                    fail(children, "'children' of group \(shown: g) must map group names to groups")
                    return
                }
                for (ck, cv) in cm {
                    guard let c = groupName(ck) else { continue }
                    raw.children[g, default: []].append(c)
                    walk(c, cv, depth: depth + 1)
                }
            }
        }

        /// `ansible-inventory --list`: each group's `hosts` and `children` are lists of names.
        mutating func listed(_ top: Node.Mapping, meta: Node) {
            var hostvars: Node.Mapping?
            if case .mapping(let mm) = meta, let hv = mm["hostvars"], case .mapping(let h) = hv { hostvars = h }
            for (k, body) in top where k.string != "_meta" {
                guard let g = groupName(k) else { continue }
                raw.direct[g, default: []] += []
                guard case .mapping(let b) = body else { continue }
                for item in names(b["hosts"], what: "hosts of group \(g)") {
                    guard let h = hostName(item) else { continue }
                    raw.addHost(h, to: g, at: Position(item))
                }
                for item in names(b["children"], what: "children of group \(g)") {
                    if let c = groupName(item) { raw.children[g, default: []].append(c) }
                }
                addVars(b["vars"], group: g)
            }
            for (hk, hv) in hostvars ?? [:] {
                guard let h = hk.string, raw.positions[h] != nil else { continue }
                addVars(hv, host: h)
            }
        }

        mutating func names(_ node: Node?, what: String) -> [Node] {
            guard let node, !isNull(node) else { return [] }
            guard case .sequence(let s) = node else {
                fail(node, "the \(what) must be a list of names, got \(NodeReader.describe(node))")
                return []
            }
            return Array(s)
        }
    }
}
