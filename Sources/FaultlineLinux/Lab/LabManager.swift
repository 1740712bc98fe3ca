import FaultlineCore
import Foundation
import Glibc

/// Brings labs up and down. Every kernel object is recorded in the lab's state file before it
/// is created; `down` removes whatever the state names and treats "already gone" as done.
public final class LabManager {
    public let dataRoot: String
    let log: (String) -> Void
    let executable: String

    public init(dataRoot: String, executable: String = Runner.selfPath, log: @escaping (String) -> Void) {
        self.dataRoot = dataRoot
        self.executable = executable
        self.log = log
    }

    /// Creates the bridge, the hosts and their services, and waits until every service is ready.
    /// On any failure everything created so far is removed again.
    public func up(_ spec: LabSpec) throws(LabError) {
        guard geteuid() == 0 else { throw LabError.refused("lab: needs root to create network namespaces") }
        if case .failure(let e) = LabState.load(dataRoot: dataRoot, lab: spec.name) { throw e }
        if LabState.read(dataRoot: dataRoot, lab: spec.name) != nil {
            throw LabError.refused(
                "lab '\(spec.name)' is already up (state in \(LabState.path(dataRoot: dataRoot, lab: spec.name))); run 'faultline lab down \(spec.name)' first"
            )
        }
        for other in LabState.all(dataRoot: dataRoot) {
            if let s = IPv4Subnet(other.subnet), s.contains(spec.subnet.network) || spec.subnet.contains(s.network) {
                throw LabError.refused(
                    "subnet \(spec.subnet) of lab '\(spec.name)' overlaps lab '\(other.lab)' (\(other.subnet)), which is up")
            }
        }
        var state = LabState(
            lab: spec.name, source: spec.source, subnet: spec.subnet.description, dataDir: "\(dataRoot)/\(spec.name)",
            createdAt: MonotonicClock.wallISO8601())
        do {
            try FileManager.default.createDirectory(atPath: state.dataDir, withIntermediateDirectories: true)
            try state.save(dataRoot: dataRoot)
            try createBridge(spec, &state)
            for (i, host) in spec.hosts.enumerated() { try createHost(spec, host, index: i, &state) }
            for (i, host) in spec.hosts.enumerated() {
                for service in host.services { try start(service, on: host, index: i, &state) }
            }
            for host in spec.hosts {
                for service in host.services {
                    let logFile = service.log.hasPrefix("/") ? service.log : "\(state.dataDir)/\(host.name)/\(service.log)"
                    try waitReady(service, on: host, log: logFile)
                }
            }
        } catch {
            log("lab \(spec.name): bring-up failed, removing what was created: \(error)")
            _ = down(spec.name)
            throw error as? LabError ?? LabError.system("\(error)")
        }
        log("lab \(spec.name): up: \(spec.hosts.count) host(s) on \(spec.bridgeName) \(spec.subnet)")
    }

    func createBridge(_ spec: LabSpec, _ state: inout LabState) throws {
        state.bridge = spec.bridgeName
        try state.save(dataRoot: dataRoot)
        try ip(["link", "add", spec.bridgeName, "type", "bridge"])
        try ip(["addr", "add", "\(spec.bridgeAddress)/\(spec.subnet.prefix)", "dev", spec.bridgeName])
        try ip(["link", "set", spec.bridgeName, "up"])
    }

    func createHost(_ spec: LabSpec, _ host: LabHost, index: Int, _ state: inout LabState) throws {
        let ns = spec.namespaceName(host)
        let veth = spec.vethName(index: index)
        let dir = "\(state.dataDir)/\(host.name)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, content) in host.files { try content.write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8) }
        state.hosts.append(LabState.Host(name: host.name, address: host.address.description, namespace: ns, veth: veth))
        try state.save(dataRoot: dataRoot)
        try ip(["netns", "add", ns])
        try ip(["link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns])
        try ip(["link", "set", veth, "master", spec.bridgeName, "up"])
        try ip(["-n", ns, "link", "set", "lo", "up"])
        try ip(["-n", ns, "addr", "add", "\(host.address)/\(spec.subnet.prefix)", "dev", "eth0"])
        try ip(["-n", ns, "link", "set", "eth0", "up"])
        state.hosts[state.hosts.count - 1].initProcess = try startInit(ns: ns, host: host, dir: dir)
        try state.save(dataRoot: dataRoot)
    }

    /// `ip netns exec NS unshare --pid --fork --mount-proc …  faultline lab host-init`, detached;
    /// returns the host init (the unshare's child, PID 1 of the new namespace).
    func startInit(ns: String, host: LabHost, dir: String) throws -> ProcessRef {
        let ready = "\(dir)/.init-ready"
        unlink(ready)
        let argv =
            ["ip", "netns", "exec", ns, "unshare", "--pid", "--fork", "--mount-proc", "--propagation", "private"]
            + SelfCommand(executable: executable).labHostInit(
                readyFile: ready, privateDirs: host.privateDirs, disks: host.disks ?? [:], cgroupMounts: Self.cgroupMounts())
        let launcher = try Detached.start(argv, log: "\(dir)/host-init.log").get()
        let deadline = MonotonicClock.now() + 5_000_000_000
        while MonotonicClock.now() < deadline {
            if FileManager.default.fileExists(atPath: ready), let child = ProcFS.children(of: launcher).first, let s = ProcFS.stat(child) {
                return ProcessRef(pid: child, startTime: s.startTime, name: s.comm)
            }
            usleep(2_000)
        }
        let text = (try? String(contentsOfFile: "\(dir)/host-init.log", encoding: .utf8)) ?? ""
        throw LabError.system(
            "host '\(host.name)': its init did not start within 5s: \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
    }

    /// The root namespace's cgroup filesystems as `lab host-init --cgroup-mount` takes them.
    static func cgroupMounts() -> [String] {
        Cgroups.mounts().map { m in
            let options = m.fstype == "cgroup" ? m.options.joined(separator: ",") : m.fstype == "tmpfs" ? "mode=755" : ""
            return "\(m.fstype):\(options):\(m.path)"
        }
    }

    func start(_ service: LabService, on host: LabHost, index: Int, _ state: inout LabState) throws {
        guard let initProcess = state.hosts[index].initProcess else { throw LabError.system("host '\(host.name)' has no init") }
        let hostDir = "\(state.dataDir)/\(host.name)"
        let dir = service.dir.map { $0.hasPrefix("/") ? $0 : "\(hostDir)/\($0)" } ?? hostDir
        let logFile = service.log.hasPrefix("/") ? service.log : "\(state.dataDir)/\(host.name)/\(service.log)"
        var cgroups: [String] = []
        if service.cgroup == true {
            let dirs = try LabCgroups.plan(lab: state.lab, host: host.name, service: service.name).get()
            for d in dirs where !(state.cgroups ?? []).contains(d.path) { state.cgroups = (state.cgroups ?? []) + [d.path] }
            try state.save(dataRoot: dataRoot)
            for d in dirs { try LabCgroups.make(d) }
            cgroups = dirs.filter { !$0.path.hasSuffix("/" + LabCgroups.parentName(state.lab)) }.map(\.path)
        }
        var supervise: String?
        if let restart = service.restart {
            let file = "\(hostDir)/.supervise-\(state.hosts[index].services.count).json"
            let spec = SupervisorSpec(name: service.name, argv: service.argv, restart: restart, cgroups: cgroups)
            try Ledger.writeDurably(try Journal.encoder().encode(spec), to: file)
            supervise = file
            cgroups = []
        }
        let launch = HostEntry.namespaces(initPid: initProcess.pid).faultline(SelfCommand(executable: executable)) {
            $0.labExec(dir: dir, log: logFile, env: service.env, argv: service.argv, cgroups: cgroups, supervise: supervise)
        }
        state.hosts[index].services.append(LabState.Service(name: service.name, process: nil, log: logFile))
        try state.save(dataRoot: dataRoot)
        let r = Spawner.run(.argv(launch.argv), timeout: 10_000_000_000, inherit: launch.inherit)
        guard r.status == 0, let nsPid = Int32(r.output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw LabError.system(
                "host '\(host.name)': start service '\(service.name)': \(r.error ?? r.output.trimmingCharacters(in: .whitespacesAndNewlines))"
            )
        }
        let process = Self.rootProcess(nsPid: nsPid, sameNamespaceAs: initProcess.pid)
        state.hosts[index].services[state.hosts[index].services.count - 1].process = process
        try state.save(dataRoot: dataRoot)
        log(
            "lab: \(host.name) (\(host.address)): started \(service.name) as pid \(process.map { String($0.pid) } ?? "?") (\(nsPid) inside)"
        )
    }

    /// The root-namespace identity of a process known by its pid inside a host's namespace.
    static func rootProcess(nsPid: Int32, sameNamespaceAs initPid: Int32) -> ProcessRef? {
        guard let ns = ProcFS.pidNamespace(initPid) else { return nil }
        for pid in ProcFS.pids() where ProcFS.nsPids(pid).last == nsPid && ProcFS.pidNamespace(pid) == ns {
            guard let s = ProcFS.stat(pid) else { continue }
            return ProcessRef(pid: pid, startTime: s.startTime, name: s.comm)
        }
        return nil
    }

    func waitReady(_ service: LabService, on host: LabHost, log: String) throws {
        guard let ready = service.ready else { return }
        let probe = try Probes.make(ready)
        let deadline = MonotonicClock.now() + service.readyWithin
        var last = probe.sample()
        while !last.ok, MonotonicClock.now() < deadline {
            usleep(50_000)
            last = probe.sample()
        }
        guard last.ok else {
            // What the service said last is usually why (a port in use, a library that clashed).
            let tail = Self.lastLines(log, 3).map { "; its log (\(log)) ends: \(ShownText.escaped($0, limit: 400))" } ?? ""
            throw LabError.system(
                "host '\(host.name)': service '\(service.name)' not ready within \(DurationText.format(service.readyWithin)): \(last.reason ?? "failed")\(tail)"
            )
        }
    }

    /// The last `n` non-blank lines of a log, joined by " / " (its last 16 KiB read).
    static func lastLines(_ path: String, _ n: Int) -> String? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        let end = (try? h.seekToEnd()) ?? 0
        try? h.seek(toOffset: end > 16_384 ? end - 16_384 : 0)
        let text = String(decoding: (try? h.readToEnd()) ?? Data(), as: UTF8.self)
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return lines.isEmpty ? nil : lines.suffix(n).joined(separator: " / ")
    }

    func ip(_ args: [String]) throws {
        let r = Spawner.run(.argv(["ip"] + args), timeout: 10_000_000_000)
        guard r.status == 0 else {
            throw LabError.system("ip \(args.joined(separator: " ")): \(r.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }
}

public enum LabError: Error, Equatable, Sendable, CustomStringConvertible {
    case refused(String)
    case system(String)
    public var description: String {
        switch self {
        case .refused(let s), .system(let s): return s
        }
    }
}
