import FaultlineCore
import Foundation
import Glibc

/// What a lab created, written *before* each object is created, so `lab down` can remove
/// everything even after `lab up` crashed half-way.
public struct LabState: Codable, Equatable, Sendable {
    public var lab: String
    public var source: String
    public var subnet: String
    public var dataDir: String
    public var bridge: String?
    public var hosts: [Host] = []
    public var createdAt: String
    /// Cgroups made for services with `cgroup: true`, parents before children (`lab down`
    /// removes them in reverse, once their processes are gone).
    public var cgroups: [String]?

    public struct Host: Codable, Equatable, Sendable {
        public var name: String
        public var address: String
        public var namespace: String
        public var veth: String
        /// PID 1 of the host's PID namespace, as seen from the root namespace.
        public var initProcess: ProcessRef?
        public var services: [Service] = []
    }

    public struct Service: Codable, Equatable, Sendable {
        public var name: String
        public var process: ProcessRef?
        public var log: String
    }

    public static func path(dataRoot: String, lab: String) -> String { "\(dataRoot)/\(lab)/lab.json" }

    /// A lab's state, or nil when there is none — or when the file is not one faultline could
    /// have written (see ``load(dataRoot:lab:)`` for why).
    public static func read(dataRoot: String, lab: String) -> LabState? { try? load(dataRoot: dataRoot, lab: lab).get() }

    /// A lab's state (nil when the lab is down), checked before anything acts on it: `lab down`
    /// deletes what it names and recovery enters the namespaces of the pids it names, so every
    /// name must follow the lab's own scheme, the data directory must be the lab's, and the file
    /// must be this user's and closed to others.
    public static func load(dataRoot: String, lab: String) -> Result<LabState?, LabError> {
        guard isLabName(lab) else {
            return .failure(
                .refused("\(ShownText.escaped(lab)) is not a lab name (1 to 8 lowercase letters or digits, starting with a letter)"))
        }
        let file = path(dataRoot: dataRoot, lab: lab)
        var st = stat()
        guard lstat(file, &st) == 0 else { return .success(nil) }
        if let problem = Ledger.untrusted(file, st, directory: false) {
            return .failure(.refused(problem.replacingOccurrences(of: "ledger", with: "lab state")))
        }
        guard let data = FileManager.default.contents(atPath: file), let state = try? Journal.decoder().decode(LabState.self, from: data)
        else {
            return .failure(.refused("'\(file)' is not a faultline lab state"))
        }
        if let problem = state.problem(dataRoot: dataRoot, lab: lab) { return .failure(.refused("'\(file)': \(problem); left alone")) }
        return .success(state)
    }

    /// What in the state does not follow the scheme `lab up` writes, or nil.
    func problem(dataRoot: String, lab name: String) -> String? {
        if lab != name { return "it is the state of lab \(ShownText.escaped(lab)), not of \(name)" }
        if dataDir != "\(dataRoot)/\(name)" { return "its data directory \(ShownText.escaped(dataDir)) is not \(dataRoot)/\(name)" }
        if let bridge, bridge != "fl-\(name)-br" { return "its bridge \(ShownText.escaped(bridge)) is not fl-\(name)-br" }
        for (i, h) in hosts.enumerated() {
            let hostName = h.name.utf8.count <= 6 && Self.isLabName(h.name)
            if !hostName { return "host \(ShownText.escaped(h.name)) is not a lab host name" }
            if h.namespace != "fl-\(name)-\(h.name)" {
                return "host \(h.name)'s namespace \(ShownText.escaped(h.namespace)) is not fl-\(name)-\(h.name)"
            }
            if h.veth != "fl-\(name)-\(i + 1)" { return "host \(h.name)'s veth \(ShownText.escaped(h.veth)) is not fl-\(name)-\(i + 1)" }
        }
        for c in cgroups ?? [] where !LabCgroups.isLabCgroup(c, lab: name) {
            return "cgroup \(ShownText.escaped(c)) is not one of the lab's (\(LabCgroups.parentName(name)) under /sys/fs/cgroup)"
        }
        return nil
    }

    /// 1 to 8 lowercase letters or digits, starting with a letter (it prefixes interface names).
    public static func isLabName(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard let first = b.first, (1...8).contains(b.count), (97...122).contains(first) else { return false }
        return b.allSatisfy { (97...122).contains($0) || (48...57).contains($0) }
    }

    /// Whether `p` is `host`'s init: alive, running `faultline lab host-init`, PID 1 of a PID
    /// namespace of its own, and in the host's network namespace (which only root can name in
    /// /run/netns) — checked before its namespaces are entered or it is killed, since its pid
    /// comes from a file, and any process can have `lab host-init` as its arguments.
    public static func isLabInit(_ p: ProcessRef, of host: Host) -> Bool {
        guard ProcFS.isAlive(p) else { return false }
        let argv = ProcFS.cmdline(p.pid)
        guard argv.count >= 3, argv[1] == "lab", argv[2] == "host-init" else { return false }
        let nsPids = ProcFS.nsPids(p.pid)
        guard nsPids.count >= 2, nsPids.last == 1 else { return false }
        var named = stat()
        var its = stat()
        guard stat("/run/netns/\(host.namespace)", &named) == 0, stat("/proc/\(p.pid)/ns/net", &its) == 0 else { return false }
        return named.st_ino == its.st_ino && named.st_dev == its.st_dev
    }

    /// Every lab with a state file under `dataRoot` that faultline could have written.
    public static func all(dataRoot: String) -> [LabState] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dataRoot)) ?? []
        return names.sorted().filter(isLabName).compactMap { read(dataRoot: dataRoot, lab: $0) }
    }

    func save(dataRoot: String) throws(LedgerError) {
        let data: Data
        do {
            data = try Journal.encoder().encode(self)
        } catch {
            throw LedgerError.io("encode lab state: \(error)")
        }
        try Ledger.writeDurably(data, to: Self.path(dataRoot: dataRoot, lab: lab))
    }
}
