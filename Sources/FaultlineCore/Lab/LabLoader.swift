import Foundation
import Yams

/// Reads lab files with the same positioned diagnostics as experiments.
///
/// `{address}`, `{host}`, `{lab}`, `{dir}` and `{ip:HOST}` in a host's strings are replaced
/// before that host is read, so a service or a readiness probe can name its own address.
public enum LabLoader {
    static let topKeys = ["lab", "subnet", "bridge_address", "hosts", "quorums"]
    static let hostKeys = ["address", "group", "region", "private", "disks", "files", "services"]
    /// A service's `clock: faketime`: a field that shares the clock fault's key.
    static let clockKey = "clock"  // check-kinds: field
    static let serviceKeys = ["name", "argv", "env", "dir", "log", "ready", "ready_within", clockKey, "cgroup", "restart", "restart_delay"]

    /// Loads and validates `path`; `dataRoot` is where host data directories live (`{dir}`).
    public static func load(path: String, dataRoot: String, named: Bool = false) throws -> LabSpec {
        switch Document.text(path: path, named: named) {
        case .success(let text): return try load(text: text, file: path, dataRoot: dataRoot)
        case .failure(let d): throw d
        }
    }

    /// Loads and validates the bytes of a lab file named `file` (its UTF-8 is checked first).
    public static func load(data: Data, file: String, dataRoot: String) throws -> LabSpec {
        switch Document.decode(data, file: file) {
        case .success(let text): return try load(text: text, file: file, dataRoot: dataRoot)
        case .failure(let d): throw d
        }
    }

    public static func load(text: String, file: String, dataRoot: String) throws -> LabSpec {
        let root: Node?
        switch Document.compose(text, file: file) {
        case .success(let n): root = n
        case .failure(let d): throw d
        }
        let r = NodeReader(file: file, document: "the lab file")
        var lab: LabSpec?
        if let root {
            lab = read(root, r, dataRoot: dataRoot)
        } else {
            r.error(nil, "file is empty; a lab needs 'lab', 'subnet' and 'hosts'")
        }
        let diagnostics = r.diagnostics.sorted { ($0.line, $0.column) < ($1.line, $1.column) }
        guard diagnostics.isEmpty, var result = lab else { throw ValidationFailure(diagnostics) }
        result.source = file
        return result
    }

    static func read(_ root: Node, _ r: NodeReader, dataRoot: String) -> LabSpec? {
        guard let f = r.fields(root, path: "", allowed: topKeys, what: "a mapping of lab keys") else { return nil }
        let name = r.string(f, "lab", required: true)
        if let name, !YAMLText.isName(name, first: YAMLText.lower, rest: { YAMLText.lower($0) || YAMLText.digit($0) }, maxLength: 8) {
            r.error(
                f.values["lab"],
                "'lab' must be 1 to 8 lowercase letters or digits starting with a letter (it prefixes interface names), got \(shown: name)")
        }
        var subnet: IPv4Subnet?
        if let text = r.string(f, "subnet", required: true) {
            if let s = IPv4Subnet(text), s.isInside(.benchmarking), (16...29).contains(s.prefix) {
                subnet = s
            } else {
                r.error(
                    f.values["subnet"],
                    "'subnet' must be a network from /16 to /29 inside 198.18.0.0/15 (the benchmarking range), like '198.18.1.0/24', got \(shown: text)"
                )
            }
        }
        var bridge: IPv4Address?
        if let subnet {
            bridge = IPv4Address(subnet.network.value | ~subnet.mask - 1)
            if let text = r.string(f, "bridge_address") {
                bridge = address(text, node: f.values["bridge_address"], path: "bridge_address", in: subnet, r)
            }
        }
        guard let hostsNode = f.value("hosts", required: true, reader: r) else { return nil }
        guard case .mapping(let m) = hostsNode, !m.isEmpty else {
            let got = NodeReader.describe(hostsNode)
            r.error(hostsNode, "'hosts' must map host names to hosts, at least one, got \(got == "a mapping" ? "none" : got)")
            return nil
        }
        let labName = name ?? "lab"
        // First pass: addresses, so {ip:HOST} can refer to any host.
        var addresses: [String: String] = [:]
        for (k, v) in m {
            if case .mapping(let hm) = v, let a = hm.first(where: { $0.key.string == "address" })?.value.string {
                addresses[k.string ?? ""] = a
            }
        }
        var hosts: [LabHost] = []
        for (k, v) in m {
            let hostName = k.string ?? ""
            guard YAMLText.isName(hostName, first: YAMLText.lower, rest: { YAMLText.lower($0) || YAMLText.digit($0) }, maxLength: 6) else {
                r.error(
                    k,
                    "host name \(shown: hostName) must be 1 to 6 lowercase letters or digits starting with a letter (namespace names derive from it)"
                )
                continue
            }
            var vars = [
                "host": hostName, "lab": labName, "dir": "\(dataRoot)/\(labName)/\(hostName)", "address": addresses[hostName] ?? "",
            ]
            for (h, a) in addresses { vars["ip:\(h)"] = a }
            let dir = "\(dataRoot)/\(labName)/\(hostName)"
            if let host = readHost(substitute(v, vars), name: hostName, subnet: subnet, dir: dir, r) { hosts.append(host) }
        }
        checkUnique(hosts, bridge: bridge, r)
        let quorums = f.values["quorums"].map { Safety.readQuorums($0, path: "quorums", r, known: hosts.map(\.name)) }
        guard let name, let subnet, let bridge else { return nil }
        var lab = LabSpec(name: name, subnet: subnet, bridgeAddress: bridge, hosts: hosts, source: "")
        lab.quorums = quorums
        return lab
    }

    static func address(_ text: String, node: Node?, path: String, in subnet: IPv4Subnet, _ r: NodeReader) -> IPv4Address? {
        guard let a = IPv4Address(text), subnet.isHostAddress(a) else {
            r.error(node, "'\(path)' must be a host address inside \(subnet), got \(shown: text)")
            return nil
        }
        return a
    }

    static func readHost(_ node: Node, name: String, subnet: IPv4Subnet?, dir: String, _ r: NodeReader) -> LabHost? {
        let path = "hosts.\(name)"
        guard let f = r.fields(node, path: path, allowed: hostKeys) else { return nil }
        let text = r.string(f, "address", required: true)
        let addr = text.flatMap { t in subnet.flatMap { address(t, node: f.values["address"], path: f.child("address"), in: $0, r) } }
        var host = LabHost(name: name, address: addr ?? IPv4Address(0))
        host.group = r.string(f, "group")
        host.region = r.string(f, "region")
        if let dirs = r.strings(f, "private") {
            // /root: the host's own root home, as a fleet host has (none of this machine's dotfiles
            // run in its ssh sessions).
            for d in dirs where !["/run", "/tmp", "/var/run", "/root"].contains(d) {
                r.error(f.values["private"], "'\(f.child("private"))' may list /run, /tmp, /var/run or /root, got \(shown: d)")
            }
            host.privateDirs = dirs
            // The host writes its readiness and service logs under its data directory; a private
            // tmpfs over it would hide them from the runner, and the host would never come up.
            for d in dirs where dir == d || dir.hasPrefix(d + "/") {
                r.error(
                    f.values["private"],
                    "host \(shown: name) makes \(d) private, but its data directory \(dir) is under \(d); use a --lab-dir outside \(d)")
            }
        }
        if let dn = f.values["disks"] {
            if case .mapping(let dm) = dn {
                var disks: [String: UInt64] = [:]
                for (k, v) in dm {
                    let path = k.string ?? ""
                    let parts = path.split(separator: "/", omittingEmptySubsequences: false)
                    let inside = host.privateDirs.contains { path.hasPrefix($0 + "/") }
                    guard inside, !parts.contains(".."), !parts.contains("."), !path.contains("\0"), !path.hasSuffix("/") else {
                        r.error(
                            k,
                            "'\(f.child("disks"))' names a path inside one of the host's private directories (\(host.privateDirs.joined(separator: ", "))), without '..', got \(shown: path)"
                        )
                        continue
                    }
                    guard let text = v.string, let size = ByteSizeText.parse(text), size >= 1 << 20, size <= 4 << 30 else {
                        r.error(
                            v, "'\(f.child("disks")).\(path)' must be a size from 1MiB to 4GiB like '128MiB', got \(NodeReader.describe(v))"
                        )
                        continue
                    }
                    disks[path] = size
                }
                host.disks = disks
            } else {
                r.error(dn, "'\(f.child("disks"))' must map paths to sizes, like {/run/data: 128MiB}, got \(NodeReader.describe(dn))")
            }
        }
        if let fn = f.values["files"] {
            if case .mapping(let fm) = fn {
                for (k, v) in fm {
                    let file = k.string ?? ""
                    if file.isEmpty || file.contains("/") || file.hasPrefix(".") {
                        r.error(k, "file name \(shown: file) in '\(f.child("files"))' must be a plain name (no '/', not hidden)")
                    }
                    guard case .scalar(let content) = v else {
                        r.error(v, "'\(f.child("files")).\(file)' must be the file's text, got \(NodeReader.describe(v))")
                        continue
                    }
                    host.files[file] = content.string
                }
            } else {
                r.error(fn, "'\(f.child("files"))' must be a mapping of file names to contents, got \(NodeReader.describe(fn))")
            }
        }
        host.services = r.each(f, "services", what: "services") { n, p, _ in
            readService(n, path: p, confinedTo: [dir] + host.privateDirs, r, clockFile: "\(dir)/\(Faketime.controlFileName)")
        }
        host.dataDir = dir
        // The control file starts at no offset; a clock fault writes it and its revert restores it.
        if host.services.contains(where: { $0.faketime == true }) { host.files[Faketime.controlFileName] = "+0\n" }
        var seen = Set<String>()
        for (i, s) in host.services.enumerated() where !seen.insert(s.name).inserted {
            r.error(path: "\(f.child("services"))[\(i)].name", "service name \(shown: s.name) is used twice on host \(shown: name)")
        }
        return addr == nil ? nil : host
    }

    static func readService(_ node: Node, path: String, confinedTo roots: [String], _ r: NodeReader, clockFile: String) -> LabService? {
        guard let f = r.fields(node, path: path, allowed: serviceKeys, what: "a service mapping") else { return nil }
        let name = r.string(f, "name", required: true)
        let argv = f.value("argv", required: true, reader: r).flatMap { r.stringList($0, path: f.child("argv")) }
        if let argv, argv.isEmpty { r.error(f.values["argv"], "'\(f.child("argv"))' must name a program: the list is empty") }
        var env: [String: String] = [:]
        if let en = f.values["env"] {
            if case .mapping(let em) = en {
                for (k, v) in em {
                    guard case .scalar(let key) = k, !key.string.isEmpty, !key.string.contains("="), case .scalar(let value) = v else {
                        r.error(
                            k,
                            "'\(f.child("env"))' must map variable names (no '=') to text, got \(NodeReader.describe(k)): \(NodeReader.describe(v))"
                        )
                        continue
                    }
                    env[key.string] = value.string
                }
            } else {
                r.error(en, "'\(f.child("env"))' must be a mapping of names to values, got \(NodeReader.describe(en))")
            }
        }
        let ready = f.values["ready"].flatMap { ProbeReader(reader: r).read($0, path: f.child("ready"), continuous: false) }
        let within = r.duration(f, "ready_within", positive: true)
        let dir = confined(f, "dir", roots, r)
        let log = confined(f, "log", roots, r)
        var faketime = false
        if let c = r.string(f, clockKey) {
            if c != "faketime" {
                r.error(
                    f.values[clockKey],
                    "'\(f.child(clockKey))' must be 'faketime' (the service's wall clock follows the host's clock faults), got \(shown: c)")
            } else if !FileManager.default.fileExists(atPath: Faketime.library) {
                r.error(f.values[clockKey], "'\(f.child(clockKey))': \(Faketime.library) is not installed (Debian package faketime)")
            } else {
                faketime = true
                env.merge(Faketime.environment(file: clockFile)) { _, ours in ours }
            }
        }
        let cgroup = r.bool(f, "cgroup")
        var restart: LabRestart?
        if let mode = r.string(f, "restart") {
            if mode == "always" || mode == "on-failure" {
                restart = LabRestart(always: mode == "always", delay: 100_000_000)
            } else {
                r.error(
                    f.values["restart"],
                    "'\(f.child("restart"))' must be 'always' or 'on-failure' (when faultline's supervisor starts the service again), got \(shown: mode)"
                )
            }
        }
        if let delay = r.duration(f, "restart_delay") {
            if f.values["restart"] == nil {
                r.error(f.keys["restart_delay"], "'\(f.child("restart_delay"))' needs 'restart' (always or on-failure)")
            } else if delay > 600_000_000_000 {
                r.error(f.values["restart_delay"], "'\(f.child("restart_delay"))' must be at most 10m")
            } else {
                restart?.delay = delay
            }
        }
        guard let name, let argv, !argv.isEmpty else { return nil }
        var service = LabService(name: name, argv: argv, env: env, dir: dir, log: log, ready: ready, readyWithin: within ?? 15_000_000_000)
        if faketime { service.faketime = true }
        if cgroup == true { service.cgroup = true }
        service.restart = restart
        return service
    }

    /// A service's `dir` or `log`: relative to the host's data directory, or absolute inside it
    /// or inside one of the host's private directories, and never through `..` — a lab file
    /// must not make the root-run service helper write anywhere else.
    static func confined(_ f: Fields, _ key: String, _ roots: [String], _ r: NodeReader) -> String? {
        guard let value = r.string(f, key) else { return nil }
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        let inside = !value.hasPrefix("/") || roots.contains { value == $0 || value.hasPrefix($0 + "/") }
        guard !value.isEmpty, inside, !parts.contains(".."), !value.contains("\0") else {
            r.error(
                f.values[key],
                "'\(f.child(key))' must be a path inside the host's data directory or its private directories (\(roots.joined(separator: ", "))), without '..', got \(shown: value)"
            )
            return nil
        }
        return value
    }

    static func checkUnique(_ hosts: [LabHost], bridge: IPv4Address?, _ r: NodeReader) {
        var seen: [IPv4Address: String] = [:]
        if let bridge { seen[bridge] = "the bridge" }
        for h in hosts {
            if let other = seen[h.address] {
                r.error(path: "hosts.\(h.name).address", "address \(h.address) of host \(shown: h.name) is already used by \(other)")
            }
            seen[h.address] = "host \(shown: h.name)"
        }
    }

    /// Replaces `{NAME}` in every scalar of `node`, keeping positions.
    static func substitute(_ node: Node, _ vars: [String: String]) -> Node {
        switch node {
        case .scalar(var s):
            guard s.string.contains("{") else { return node }
            s.string = fill(s.string, vars)
            return .scalar(s)
        case .mapping(let m):
            return .mapping(Node.Mapping(m.map { ($0.key, substitute($0.value, vars)) }, m.tag, m.style, m.mark))
        case .sequence(let q):
            return .sequence(Node.Sequence(q.map { substitute($0, vars) }, q.tag, q.style, q.mark))
        case .alias:
            return node
        }
    }

    /// One pass from left to right: each `{NAME}` with a value is replaced, and what replaced it
    /// is not read again, so `{ip:{host}}` gives `{ip:n1}` whatever the order of the variables.
    static func fill(_ text: String, _ vars: [String: String]) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let after = rest[rest.index(after: open)...]
            if let close = after.firstIndex(of: "}"), let value = vars[String(after[..<close])] {
                out += value
                rest = after[after.index(after: close)...]
            } else {
                out += "{"
                rest = after
            }
        }
        return out + rest
    }
}
