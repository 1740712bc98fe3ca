import Foundation
import Yams

/// Reads experiment files (YAML or JSON — one parser, one model) and validates them completely.
public enum ExperimentLoader {
    static let topKeys = [
        "version", "title", "description", "tags", "lab", "hosts", "duration", "steady_state", "probes", "workload", "faults",
        "actions", "rollbacks", "expect", "stop_when", "safety", "settings", "proxies", "markers",
    ]

    /// Where lab host data lives by default (`{dir}` in lab files); `faultline --lab-dir` changes it.
    public static let defaultLabDataRoot = "/var/lib/faultline/labs"

    /// Loads and validates the file at `path`; throws ``ValidationFailure`` with every problem.
    public static func load(path: String, labDataRoot: String = defaultLabDataRoot) throws -> Experiment {
        switch Document.text(path: path) {
        case .success(let text): return try load(text: text, file: path, labDataRoot: labDataRoot)
        case .failure(let d): throw d
        }
    }

    /// Loads and validates the bytes of a file named `file` (its UTF-8 is checked first).
    public static func load(data: Data, file: String, labDataRoot: String = defaultLabDataRoot) throws -> Experiment {
        switch Document.decode(data, file: file) {
        case .success(let text): return try load(text: text, file: file, labDataRoot: labDataRoot)
        case .failure(let d): throw d
        }
    }

    /// Parses and validates `text`, naming `file` in messages; a `lab:` path is relative to the
    /// file's folder.
    public static func load(text: String, file: String, labDataRoot: String = defaultLabDataRoot) throws -> Experiment {
        let root: Node?
        switch Document.compose(text, file: file) {
        case .success(let r): root = r
        case .failure(let d): throw d
        }
        guard let root else {
            throw ValidationFailure([
                Diagnostic(file: file, line: 1, column: 1, message: "file is empty; an experiment needs 'version', 'title' and 'duration'")
            ])
        }
        let reader = NodeReader(file: file, document: "the experiment")
        var experiment = read(root, reader: reader)
        var labDiagnostics: [Diagnostic] = []
        if let e = experiment, let labNode = reader.labNode {
            (experiment, labDiagnostics) = attachLab(e, node: labNode, file: file, dataRoot: labDataRoot, reader: reader)
        }
        if let experiment { ExperimentValidator(reader: reader).validate(experiment) }
        let diagnostics = reader.diagnostics.sorted { ($0.line, $0.column) < ($1.line, $1.column) } + reader.others + labDiagnostics
        guard diagnostics.isEmpty, var result = experiment else { throw ValidationFailure(diagnostics) }
        result.source = file
        return result
    }

    static func syntaxDiagnostic(_ e: YamlError, file: String) -> Diagnostic {
        func d(_ mark: Mark?, _ message: String) -> Diagnostic {
            Diagnostic(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message)
        }
        switch e {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let within = context.map { " (\($0.text) that began at \($0.mark.line):\($0.mark.column))" } ?? ""
            return d(mark, "syntax error: \(problem)\(within)")
        case .duplicatedKeysInMapping(let keys, let context):
            let list = keys.map { "'\($0)'" }.joined(separator: ", ")
            return d(context.mark, "duplicate key \(list) in one mapping (first written here)")
        case .reader(let problem, let offset, _, let yaml):
            // The reader gives a byte offset, not a mark: turn it into a line and column.
            let at = offset.map { Document.position(of: $0, in: Array(yaml.utf8)) } ?? (1, 1)
            return Diagnostic(file: file, line: at.0, column: at.1, message: "unreadable input: \(problem)")
        default:
            return d(nil, "syntax error: \(e)")
        }
    }

    static func read(_ root: Node, reader r: NodeReader) -> Experiment? {
        guard let f = r.fields(root, path: "", allowed: topKeys, what: "a mapping of experiment keys") else {
            return nil
        }
        let version = r.int(f, "version", range: 1...1_000, required: true)
        if let version, version != 1 {
            r.error(f.values["version"], "'version' must be 1 (the only format version), got '\(version)'")
        }
        let title = r.string(f, "title", required: true)
        let duration = r.duration(f, "duration", required: true, positive: true)
        let steps = StepReader(reader: r)
        // An unreadable duration is 0 here: timing checks against it would only repeat the error.
        var e = Experiment(title: title ?? "", duration: duration ?? 0)
        e.version = version ?? 1
        e.description = r.string(f, "description")
        e.tags = r.strings(f, "tags") ?? []
        e.hosts = readHosts(f, r, groups: &e.groups, quorums: &e.quorums)
        r.labNode = f.values["lab"]
        if let node = f.values["proxies"] { e.proxies = ProxyDecl.readAll(node, reader: r) }
        let probes = ProbeReader(reader: r)
        e.steadyState = r.each(f, "steady_state", what: "probes") { n, p, _ in probes.read(n, path: p, continuous: false) }
        e.probes = r.each(f, "probes", what: "probes") { n, p, _ in probes.read(n, path: p, continuous: true) }
        e.faults = r.each(f, "faults", what: "faults") { steps.fault($0, path: $1, index: $2) }
        e.actions = r.each(f, "actions", what: "actions") { steps.action($0, path: $1, index: $2, prefix: "action", timed: true) }
        e.rollbacks = r.each(f, "rollbacks", what: "rollback commands") {
            steps.action($0, path: $1, index: $2, prefix: "rollback", timed: false)
        }
        if let node = f.values["workload"] { e.workload = readWorkload(node, r) }
        e.markers = MarkerSpec.readAll(f, r)
        if let node = f.values["expect"] {
            e.expectations = ExpectReader(reader: r).read(node, experiment: e)
        }
        if let node = f.values["stop_when"] { e.stopConditions = StopReader(reader: r).read(node, experiment: e) }
        if let node = f.values["safety"] { e.safety = Safety.read(node, r) }
        if let node = f.values["settings"] { readSettings(node, into: &e.settings, r) }
        return e
    }

    /// Loads the lab file `lab:` names and makes its hosts available by name.
    static func attachLab(_ e: Experiment, node: Node, file: String, dataRoot: String, reader r: NodeReader) -> (Experiment, [Diagnostic]) {
        guard case .scalar(let s) = node else {
            r.error(node, "'lab' must be the path of a lab file, got \(NodeReader.describe(node))")
            return (e, [])
        }
        let base = (file as NSString).deletingLastPathComponent
        let path = s.string.hasPrefix("/") || base.isEmpty ? s.string : "\(base)/\(s.string)"
        // Only a lab file is read: a diagnostic about any other file could show its content.
        guard [".yaml", ".yml", ".json"].contains(where: { path.hasSuffix($0) }) else {
            r.error(node, "'lab' must name a lab file (.yaml, .yml or .json), got \(shown: s.string)")
            return (e, [])
        }
        guard FileManager.default.fileExists(atPath: path) else {
            // A path is shown whole (cut, it would not say which file); control characters are
            // escaped by the diagnostic.
            r.error(node, "lab file '\(path)' does not exist")
            return (e, [])
        }
        do {
            let lab = try LabLoader.load(path: path, dataRoot: dataRoot, named: true)
            var out = e
            out.lab = lab
            for h in lab.hosts {
                if out.hosts.contains(where: { $0.name == h.name }) {
                    r.error(node, "lab host \(shown: h.name) has the name of a host declared in 'hosts'")
                    continue
                }
                out.hosts.append(HostSpec(name: h.name, transport: .lab))
            }
            return (out, [])
        } catch let failure as ValidationFailure {
            r.error(node, "lab file '\(path)' has problems (listed below)")
            return (e, failure.diagnostics)
        } catch {
            r.error(node, "lab file '\(path)': \(error)")
            return (e, [])
        }
    }

    static func readWorkload(_ node: Node, _ r: NodeReader) -> WorkloadSpec? {
        let keys = WorkloadSpec.kinds + ["rate", "concurrency", "timeout", "converge_within"]
        guard let f = r.fields(node, path: "workload", allowed: keys, unknown: "key or workload kind") else { return nil }
        let present = WorkloadSpec.kinds.filter { f.has($0) }
        guard present.count == 1, let kind = present.first, let kn = f.values[kind] else {
            r.error(
                present.count > 1 ? f.keys[present[1]] : node,
                present.isEmpty
                    ? "'workload' needs a client: one of \(WorkloadSpec.kinds.joined(separator: ", "))"
                    : "'workload' has clients \(present.joined(separator: " and ")); use exactly one")
            return nil
        }
        let client: WorkloadClient?
        switch kind {
        case "redis": client = readRedisWorkload(kn, r)
        case "postgres": client = readPostgresWorkload(kn, r)
        case "command": client = readCommandWorkload(kn, r)
        case "etcd": client = readEtcdWorkload(kn, r)
        default: client = readHTTPWorkload(kn, r)
        }
        var rate: Rate?
        if let text = r.string(f, "rate", required: true) {
            rate = Rate.parse(text)
            if rate == nil {
                r.error(f.values["rate"], "'workload.rate' must be a rate like '200/s', got \(shown: text)")
            } else if let v = rate?.perSecond, !(Bounds.minRate...Bounds.maxRate).contains(v) {
                r.error(f.values["rate"], "'workload.rate' must be between 1/h and 1000000/s, got \(shown: text)")
                rate = nil
            }
        }
        guard let rate, let client else { return nil }
        var w = WorkloadSpec(client: client, rate: rate)
        if let c = r.int(f, "concurrency", range: 1...64) { w.concurrency = c }
        if let t = r.duration(f, "timeout", positive: true, max: Bounds.hour) { w.timeout = t }
        if let t = r.duration(f, "converge_within", max: Bounds.hour) { w.convergeWithin = t }
        return w
    }

    static func readRedisWorkload(_ rn: Node, _ r: NodeReader) -> WorkloadClient? {
        let allowed = ["sentinels", "master", "address", "key", "replicas", "mode", "keys", "read_share"]
        guard let rf = r.fields(rn, path: "workload.redis", allowed: allowed) else { return nil }
        let sentinels = r.strings(rf, "sentinels") ?? []
        let address = r.string(rf, "address")
        if sentinels.isEmpty == (address == nil) {
            r.error(rn, "'workload.redis' needs 'sentinels' (to follow the primary) or 'address' (one fixed endpoint), not both")
        }
        for (i, a) in (sentinels + (address.map { [$0] } ?? [])).enumerated() where ProbeReader.splitHostPort(a) == nil {
            r.error(
                rf.values[i < sentinels.count ? "sentinels" : "address"],
                "\(shown: a) in 'workload.redis' must be an address like '198.18.1.11:26379'")
        }
        let replicas = r.strings(rf, "replicas") ?? []
        if replicas.isEmpty { r.error(rn, "'workload.redis.replicas' must list every replica to read at the end") }
        var mode = RedisWorkload.Mode.set
        if let m = r.string(rf, "mode") {
            if let v = RedisWorkload.Mode(rawValue: m) {
                mode = v
            } else {
                r.error(rf.values["mode"], "'workload.redis.mode' must be one of set, register, got \(shown: m)")
            }
        }
        guard !replicas.isEmpty else { return nil }
        var w = RedisWorkload(
            sentinels: sentinels, master: r.string(rf, "master") ?? "mymaster", address: address,
            key: r.string(rf, "key") ?? "faultline:set", replicas: replicas, mode: mode)
        if let k = r.int(rf, "keys", range: 1...100_000) { w.keys = k }
        if let s = r.percent(rf, "read_share") { w.readShare = s }
        return .redis(w)
    }

    static func readPostgresWorkload(_ node: Node, _ r: NodeReader) -> WorkloadClient? {
        let allowed = ["connection", "table", "replicas", "registers", "read_share", "read_connection"]
        guard let f = r.fields(node, path: "workload.postgres", allowed: allowed) else { return nil }
        let connection = r.string(f, "connection", required: true)
        let replicas = r.strings(f, "replicas") ?? []
        if replicas.isEmpty {
            r.error(node, "'workload.postgres.replicas' must list a connection string for every server to read at the end")
        }
        let registers = r.int(f, "registers", range: 1...100_000)
        let table = r.string(f, "table") ?? (registers == nil ? "faultline_writes" : "faultline_registers")
        let sqlName = { (c: UInt8) in YAMLText.lower(c) || c == 95 }
        if !YAMLText.isName(table, first: sqlName, rest: { sqlName($0) || YAMLText.digit($0) }, maxLength: 63) {
            r.error(f.values["table"], "'workload.postgres.table' must be a plain lower-case SQL name, got \(shown: table)")
        }
        guard let connection, !replicas.isEmpty else { return nil }
        var w = PostgresWorkload(connection: connection, table: table, replicas: replicas, registers: registers)
        if let s = r.percent(f, "read_share") { w.readShare = s }
        w.readConnection = r.string(f, "read_connection")
        if registers == nil, f.has("read_share") || f.has("read_connection") {
            r.error(node, "'workload.postgres' reads only in register mode: add 'registers' (how many keys)")
        }
        return .postgres(w)
    }

    static func readEtcdWorkload(_ node: Node, _ r: NodeReader) -> WorkloadClient? {
        guard let f = r.fields(node, path: "workload.etcd", allowed: ["endpoints", "key", "keys", "read_share", "serializable"]) else {
            return nil
        }
        let endpoints = f.value("endpoints", required: true, reader: r).flatMap { r.stringList($0, path: f.child("endpoints")) } ?? []
        var bad = false
        for e in endpoints where ProbeReader.splitHostPort(e) == nil {
            r.error(f.values["endpoints"], "\(shown: e) in 'workload.etcd.endpoints' must be a client address like '198.18.8.11:2379'")
            bad = true
        }
        if endpoints.isEmpty, f.has("endpoints") {
            r.error(f.values["endpoints"], "'workload.etcd.endpoints' must list at least one member")
        }
        let key = r.string(f, "key") ?? "faultline/register/"
        if key.isEmpty || key.unicodeScalars.contains(where: ShownText.isControl) {
            r.error(f.values["key"], "'workload.etcd.key' must be a non-empty key prefix without control characters, got \(shown: key)")
            bad = true
        }
        let keys = r.int(f, "keys", range: 1...100_000)
        let readShare = r.percent(f, "read_share")
        let serializable = r.bool(f, "serializable")
        guard !endpoints.isEmpty, !bad else { return nil }
        var w = EtcdWorkload(endpoints: endpoints, key: key, serializable: serializable ?? false)
        if let keys { w.keys = keys }
        if let readShare { w.readShare = readShare }
        return .etcd(w)
    }

    static func readCommandWorkload(_ node: Node, _ r: NodeReader) -> WorkloadClient? {
        guard let f = r.fields(node, path: "workload.command", allowed: ["write", "replicas"]) else { return nil }
        let steps = StepReader(reader: r)
        let write = f.value("write", required: true, reader: r).flatMap {
            steps.commandSpec($0, path: f.child("write"), extra: []).0
        }
        var replicas: [CommandWorkload.Replica] = []
        if let rn = f.values["replicas"] {
            if case .mapping(let m) = rn {
                for (k, v) in m {
                    let name = k.string ?? ""
                    if let c = steps.commandSpec(v, path: "workload.command.replicas.\(name)", extra: []).0 {
                        replicas.append(CommandWorkload.Replica(name: name, read: c))
                    }
                }
            } else {
                r.error(rn, "'workload.command.replicas' must map replica names to commands that print the stored values")
            }
        }
        guard let write else { return nil }
        return .command(CommandWorkload(write: write, replicas: replicas))
    }

    static func readHTTPWorkload(_ node: Node, _ r: NodeReader) -> WorkloadClient? {
        guard let f = r.fields(node, path: "workload.http", allowed: ["url", "method", "body", "backend_header", "replicas", "keys"])
        else {
            return nil
        }
        var url = r.string(f, "url", required: true)
        // {value} and {key} are filled in per request; checked with a stand-in for them.
        if let u = url,
            let problem = NetworkText.urlProblem(
                u.replacingOccurrences(of: "{value}", with: "v").replacingOccurrences(of: "{key}", with: "k"))
        {
            r.error(f.values["url"], "'workload.http.url' \(problem), got \(shown: u)")
            url = nil
        }
        for u in r.strings(f, "replicas") ?? [] {
            if let problem = NetworkText.urlProblem(u) {
                r.error(f.values["replicas"], "\(shown: u) in 'workload.http.replicas' \(problem)")
            }
        }
        let method = (r.string(f, "method") ?? "GET").uppercased()
        let methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]
        if !methods.contains(method) {
            r.error(f.values["method"], "'workload.http.method' must be one of \(methods.joined(separator: ", ")), got \(shown: method)")
        }
        guard let url else { return nil }
        var h = HTTPWorkload(
            url: url, method: method, body: r.string(f, "body"), backendHeader: r.string(f, "backend_header"),
            replicas: r.strings(f, "replicas") ?? [])
        h.keys = r.int(f, "keys", range: 1...1_000_000)
        return .http(h)
    }

    static func readSettings(_ node: Node, into s: inout Settings, _ r: NodeReader) {
        let keys = ["confirm_timeout", "settle_timeout", "lease_renew", "lease_expiry"]
        guard let f = r.fields(node, path: "settings", allowed: keys) else { return }
        if let v = r.duration(f, "confirm_timeout", positive: true, max: Bounds.tenMinutes) { s.confirmTimeout = v }
        if let v = r.duration(f, "settle_timeout", max: Bounds.hour) { s.settleTimeout = v }
        let before = r.diagnostics.count
        if let v = r.duration(f, "lease_renew", positive: true, max: Bounds.minute) {
            if v < Bounds.minLeaseRenew {
                r.error(
                    f.values["lease_renew"],
                    "'settings.lease_renew' must be at least \(DurationText.format(Bounds.minLeaseRenew)), got '\(DurationText.format(v))'")
            } else {
                s.leaseRenew = v
            }
        }
        if let v = r.duration(f, "lease_expiry", positive: true, max: Bounds.tenMinutes) {
            if v < Bounds.minLeaseExpiry {
                r.error(
                    f.values["lease_expiry"],
                    "'settings.lease_expiry' must be at least \(DurationText.format(Bounds.minLeaseExpiry)) (the agent checks its lease every 10ms), got '\(DurationText.format(v))'"
                )
            } else {
                s.leaseExpiry = v
            }
        }
        // Compared only when both were read: a refused one would be compared as its default.
        if r.diagnostics.count == before, s.leaseExpiry < 2 * s.leaseRenew {
            r.error(
                f.values["lease_expiry"] ?? f.values["lease_renew"] ?? node,
                "'settings.lease_expiry' (\(DurationText.format(s.leaseExpiry))) must be at least twice 'settings.lease_renew' (\(DurationText.format(s.leaseRenew))), or one late renewal ends the lease"
            )
        }
    }

    /// `hosts: {from: INVENTORY, group: NAME, ssh: {…defaults}}`: every host of the group (all by
    /// default) as an ssh host, the inventory's groups (those hosts only) as `group:NAME`.
    static func readInventory(
        _ node: Node, _ r: NodeReader, groups: inout [String: [String]], quorums: inout [String: [String]]
    ) -> [HostSpec] {
        guard let f = r.fields(node, path: "hosts", allowed: ["from", "group", "ssh"], what: "an inventory: from, group, ssh") else {
            return []
        }
        guard let rel = r.string(f, "from", required: true) else { return [] }
        let base = (r.file as NSString).deletingLastPathComponent
        let path = rel.hasPrefix("/") || base.isEmpty ? rel : "\(base)/\(rel)"
        let inventory: Inventory
        switch Inventory.load(path: path) {
        case .success(let i): inventory = i
        case .failure(let failure):
            r.error(f.values["from"], "'hosts.from': inventory '\(path)' has problems (listed below)")
            r.others += failure.diagnostics
            return []
        }
        // Defaults for every host; the inventory's own variables win.
        let shared = f.values["ssh"].flatMap { SSHTarget.read($0, path: "hosts.ssh", file: r.file, reader: r, defaults: true) }
        let group = r.string(f, "group") ?? "all"
        guard let members = inventory.groups[group] else {
            r.error(
                f.values["group"],
                "'hosts.group': the inventory has no group \(shown: group) \(Suggest.hint(for: group, in: inventory.groups.keys.sorted()))")
            return []
        }
        if members.isEmpty { r.error(f.values["group"] ?? node, "'hosts.group': group \(shown: group) of the inventory has no host") }
        var out: [HostSpec] = []
        for h in members where h != "local" {
            guard var t = inventory.hosts[h] else { continue }
            // A key file the inventory names is relative to the inventory's folder.
            let invDir = (path as NSString).deletingLastPathComponent
            if let id = t.identity, !id.hasPrefix("/"), !invDir.isEmpty { t.identity = "\(invDir)/\(id)" }
            if let s = shared {
                if t.identity == nil { t.identity = s.identity }
                t.knownHosts = s.knownHosts
                t.hostKeys = s.hostKeys
                if t.become == .none { t.become = s.become }
                t.directory = s.directory
            }
            out.append(HostSpec(name: h, transport: .ssh, ssh: t))
        }
        let taken = Set(out.map(\.name))
        for (g, list) in inventory.groups { groups[g] = list.filter(taken.contains) }
        for g in inventory.quorums { quorums[g] = groups[g] }
        return out
    }

    static func readHosts(
        _ f: Fields, _ r: NodeReader, groups: inout [String: [String]], quorums: inout [String: [String]]
    ) -> [HostSpec] {
        var hosts = [HostSpec.local]
        guard let node = f.values["hosts"], case .mapping(let m) = node else {
            if let node = f.values["hosts"] {
                r.error(node, "'hosts' must be a mapping of host names to transports, got \(NodeReader.describe(node))")
            }
            return hosts
        }
        if let from = m["from"], case .scalar = from { return hosts + readInventory(node, r, groups: &groups, quorums: &quorums) }
        for (k, v) in m {
            let name = k.string ?? ""
            let path = "hosts.\(name)"
            let nameChar = { (c: UInt8) in YAMLText.letter(c) || YAMLText.digit(c) || c == 95 || c == 45 }
            guard YAMLText.isName(name, first: YAMLText.letter, rest: nameChar, maxLength: 32) else {
                r.error(k, "host name \(shown: name) must start with a letter and use letters, digits, '-' or '_' (at most 32)")
                continue
            }
            guard
                let hf = r.fields(v, path: path, allowed: ["local", "netns", "ssh"], what: "a mapping with one transport: local or ssh")
            else {
                continue
            }
            if let t = hf.keys["netns"] {
                r.error(t, "host transport '\(t.string ?? "")' in '\(path)' is not supported by format version 1 yet (valid: local, ssh)")
                continue
            }
            if hf.has("local"), hf.has("ssh") {
                r.error(v, "'\(path)' takes one transport, local or ssh")
                continue
            }
            if let sn = hf.values["ssh"] {
                if name == "local" {
                    r.error(k, "host name 'local' means this machine; name an ssh host otherwise")
                    continue
                }
                if let t = SSHTarget.read(sn, path: "\(path).ssh", file: r.file, reader: r) {
                    hosts.append(HostSpec(name: name, transport: .ssh, ssh: t))
                }
                continue
            }
            guard hf.has("local") else {
                r.error(v, "'\(path)' needs a transport (valid: local, ssh)")
                continue
            }
            if name != "local" { hosts.append(HostSpec(name: name, transport: .local)) }
        }
        return hosts
    }
}
