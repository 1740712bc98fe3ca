import FaultlineCore
import Foundation
import Glibc

extension LabManager {
    /// Removes everything the lab's state names: host inits (and with them every process in
    /// their namespaces), namespaces, veths, the bridge, the data directory. Returns problems.
    public func down(_ lab: String) -> [String] {
        let state: LabState
        switch LabState.load(dataRoot: dataRoot, lab: lab) {
        case .failure(let e): return ["lab \(ShownText.escaped(lab)): \(e)"]
        case .success(nil): return ["lab '\(lab)': no state in \(LabState.path(dataRoot: dataRoot, lab: lab)); nothing to remove"]
        case .success(let s?): state = s
        }
        var problems: [String] = []
        for host in state.hosts.reversed() {
            if let p = host.initProcess { problems += stopInit(p, host: host) }
            problems += remove(["netns", "del", host.namespace], while: "/run/netns/\(host.namespace)")
            // The veth normally goes with the namespace (its peer lived there), asynchronously.
            problems += remove(["link", "del", host.veth], while: "/sys/class/net/\(host.veth)")
        }
        if let bridge = state.bridge { problems += remove(["link", "del", bridge], while: "/sys/class/net/\(bridge)") }
        // Their processes went with the hosts' inits.
        problems += LabCgroups.remove(state.cgroups ?? [])
        if problems.isEmpty {
            do {
                try FileManager.default.removeItem(atPath: state.dataDir)
            } catch {
                problems.append("remove '\(state.dataDir)': \(error.localizedDescription)")
            }
        }
        log(problems.isEmpty ? "lab \(lab): down: nothing left" : "lab \(lab): down with problems")
        return problems
    }

    /// SIGKILL to a host's PID 1 after checking it is ours; the kernel then kills every process
    /// in that PID namespace.
    func stopInit(_ p: ProcessRef, host: LabState.Host) -> [String] {
        guard ProcFS.isAlive(p) else { return [] }
        guard LabState.isLabInit(p, of: host) else {
            let cmdline = ProcFS.cmdline(p.pid).joined(separator: " ")
            return ["host '\(host.name)': pid \(p.pid) is not this lab's init (\(shown: cmdline)); left alone"]
        }
        kill(p.pid, SIGKILL)
        let deadline = MonotonicClock.now() + 5_000_000_000
        while ProcFS.isAlive(p), MonotonicClock.now() < deadline { usleep(2_000) }
        return ProcFS.isAlive(p) ? ["host '\(host.name)': init \(p) did not exit"] : []
    }

    /// Runs `ip args` while `path` shows the object exists; an object that vanished meanwhile
    /// (the kernel removes a namespace's veths on its own) counts as removed.
    func remove(_ args: [String], while path: String) -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        do {
            try ip(args)
            return []
        } catch {
            return FileManager.default.fileExists(atPath: path) ? ["\(error)"] : []
        }
    }

    /// One line per host and service: namespace present, init alive, readiness now.
    public func status(_ lab: String, spec: LabSpec?) -> [String] {
        let state: LabState
        switch LabState.load(dataRoot: dataRoot, lab: lab) {
        case .failure(let e): return ["lab \(ShownText.escaped(lab)): \(e)"]
        case .success(nil): return ["lab '\(lab)': down"]
        case .success(let s?): state = s
        }
        var lines = ["lab \(lab): \(state.subnet) on \(state.bridge ?? "-"), up since \(state.createdAt)"]
        for h in state.hosts {
            let ns = FileManager.default.fileExists(atPath: "/run/netns/\(h.namespace)")
            let initAlive = h.initProcess.map(ProcFS.isAlive) ?? false
            lines.append(
                "  \(h.name) \(h.address) netns \(h.namespace) \(ns ? "present" : "MISSING"), init \(initAlive ? "alive" : "GONE")")
            for s in h.services {
                let alive = s.process.map(ProcFS.isAlive) ?? false
                var line = "    \(s.name): \(alive ? "running as pid \(s.process?.pid ?? 0)" : "NOT RUNNING (original pid)")"
                if let ready = spec?.hosts.first(where: { $0.name == h.name })?.services.first(where: { $0.name == s.name })?.ready,
                    let probe = try? Probes.make(ready)
                {
                    let sample = probe.sample()
                    line += sample.ok ? ", ready" : ", not ready: \(sample.reason ?? "")"
                }
                lines.append(line)
            }
        }
        return lines
    }
}
