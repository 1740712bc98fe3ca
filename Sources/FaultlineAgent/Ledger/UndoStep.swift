import FaultlineEssentials
import Glibc

/// One step that undoes part of an injection, as data: written to the ledger before the
/// injection and replayable by `faultline recover` from another process.
public enum UndoStep: Codable, Equatable, Sendable, CustomStringConvertible {
    /// Send `signal` to this exact process (same pid *and* start time) if it still exists.
    case signal(ProcessRef, signal: Int32)
    /// Delete an nft table (family inet) this run created, in the current network namespace.
    case nftDeleteTable(String)
    /// Delete an nft table of another family (the queue engine's are `ip`).
    case nftDelete(family: String, table: String)
    /// Stop the queue engine serving `table` in this process (its table goes with it); in any
    /// other process there is nothing to stop: the engine died with the process that ran it.
    case stopQueueEngine(table: String)
    /// Delete a qdisc faultline added (handle major fa17, or the ingress qdisc it added).
    case qdiscDelete(device: String, parent: UInt32, handle: UInt32)
    /// Delete a link faultline added (an IFB named `flifb…`).
    case linkDelete(String)
    /// Remove toxics from (and re-enable) a fault proxy of this process; in any other process
    /// there is nothing to undo: the proxy ended with the process that ran it.
    case proxyRestore(proxy: String, toxics: [String], enable: Bool)
    /// End every resource worker of this tag (`faultline_<run>_<index>`): processes of a
    /// faultline executable whose command line is `… worker KIND --tag TAG`.
    case endWorkers(tag: String)
    /// Remove a fill file faultline made (`…/faultline_<run>_<index>.fill`).
    case removeFile(String)
    /// Write a lab host's libfaketime control file (`…/faketime.rc`) back to an offset.
    case setClock(file: String, offset: String)
    /// Write a cgroup limit file back to the value it held before a limit (`Cgroups.limitFiles`).
    case writeCgroup(dir: String, file: String, value: String)
    /// Set the system clock back to `bootDelta` ns ahead of the boot clock (its relation before
    /// a system clock step).
    case setSystemClock(bootDelta: Int64)

    public var description: String {
        switch self {
        case .signal(let p, let s): return "send signal \(s) to \(p)"
        case .nftDeleteTable(let t): return "delete nft table inet \(t)"
        case .nftDelete(let family, let t): return "delete nft table \(family) \(t)"
        case .stopQueueEngine(let t): return "stop the delay line of \(t)"
        case .qdiscDelete(let d, _, let h): return "delete qdisc \(String(h >> 16, radix: 16)): on \(d)"
        case .linkDelete(let l): return "delete link \(l)"
        case .proxyRestore(let p, let toxics, let enable):
            return enable
                ? "bring proxy \(p) up" : "remove toxic\(toxics.count == 1 ? "" : "s") \(toxics.joined(separator: ", ")) from proxy \(p)"
        case .endWorkers(let tag): return "end the workers of \(tag)"
        case .removeFile(let path): return "remove \(path)"
        case .setClock(let file, let offset): return "set \(file) back to \(offset)"
        case .writeCgroup(let dir, let file, let value): return "set \(dir)/\(file) back to \(value)"
        case .setSystemClock: return "put the system clock back (its offset from the boot clock before the step)"
        }
    }

    /// An absolute `…/faketime.rc` without `..`: the only clock file faultline writes.
    package static func isClockFile(_ path: String) -> Bool {
        path.hasPrefix("/") && !path.split(separator: "/").contains("..") && path.hasSuffix("/faketime.rc")
    }

    /// libfaketime's relative offsets as faultline writes them: `+0`, `-2.5s`, `+30.000000000s x1.001`.
    package static func isFaketimeOffset(_ text: String) -> Bool {
        let parts = text.split(separator: " ")
        guard (1...2).contains(parts.count), let first = parts.first, first.first == "+" || first.first == "-" else { return false }
        let number = first.dropFirst().hasSuffix("s") ? first.dropFirst().dropLast() : first.dropFirst()
        guard !number.isEmpty, Double(number) != nil, number.allSatisfy({ $0.isNumber || $0 == "." }) else { return false }
        if parts.count == 2 {
            guard parts[1].first == "x", let r = Double(parts[1].dropFirst()), r > 0, r <= 10 else { return false }
        }
        return true
    }

    /// Replaces a clock file's content in one rename, so a reading process sees old or new.
    package static func writeClock(_ file: String, _ offset: String) throws(FaultError) {
        let temp = file + ".faultline"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw FaultError.system("write \(temp): \(errnoText())") }
        let bytes = Array((offset + "\n").utf8)
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard n == bytes.count, rename(temp, file) == 0 else { throw FaultError.system("write \(file): \(errnoText())") }
    }

    /// `/…/faultline_<run>_<index>.fill`, absolute, without `..`.
    static func isFillFile(_ path: String) -> Bool {
        guard path.hasPrefix("/"), !path.split(separator: "/").contains(".."), path.hasSuffix(".fill"),
            let name = path.split(separator: "/").last
        else { return false }
        return isFaultlineTable(String(name.dropLast(5)))
    }

    /// Why this step may not be executed, or nil. Only steps of the shapes faultline itself
    /// records are trusted — a ledger is a file, and a planted one must not make `recover` send
    /// any signal to any process or delete any table: SIGCONT to a process named by pid *and*
    /// start time (never PID 1), and deleting a table with faultline's prefix.
    public var refusal: String? {
        switch self {
        case .signal(let p, let sig):
            if sig != SIGCONT { return "signal \(sig) is not an undo faultline records (only SIGCONT, to continue what it paused)" }
            if p.pid <= 1 { return "pid \(p.pid) is never signalled" }
            if p.startTime == 0 { return "pid \(p.pid) has no start time recorded, so it cannot be told from a reused pid" }
            return nil
        case .nftDeleteTable(let t), .stopQueueEngine(let t):
            return Self.isFaultlineTable(t) ? nil : "nft table '\(t)' is not named like faultline's tables (faultline_…)"
        case .nftDelete(let family, let t):
            if !["ip", "inet"].contains(family) { return "nft family '\(family)' is not one faultline uses" }
            return Self.isFaultlineTable(t) ? nil : "nft table '\(t)' is not named like faultline's tables (faultline_…)"
        case .qdiscDelete(let d, let parent, let h):
            if !Self.isDevice(d) { return "'\(d)' is not an interface name" }
            let ours = h >> 16 == TrafficControl.major || (parent == TrafficControl.ingressParent && h == TrafficControl.ingressHandle)
            return ours ? nil : "qdisc \(String(h >> 16, radix: 16)): is not one faultline adds (fa17:, or the ingress qdisc)"
        case .linkDelete(let l):
            return l.hasPrefix("flifb") && Self.isDevice(l) ? nil : "link '\(l)' is not one faultline adds (flifb…)"
        case .proxyRestore:
            // Acts only on this process's own proxies: nothing outside it to protect.
            return nil
        case .endWorkers(let tag):
            return Self.isFaultlineTable(tag) ? nil : "worker tag '\(tag)' is not named like faultline's (faultline_…)"
        case .removeFile(let path):
            return Self.isFillFile(path) ? nil : "'\(path)' is not a fill file faultline makes (an absolute …/faultline_….fill)"
        case .setClock(let file, let offset):
            if !Self.isClockFile(file) { return "'\(file)' is not a clock control file faultline writes (an absolute …/faketime.rc)" }
            return Self.isFaketimeOffset(offset) ? nil : "'\(offset)' is not a clock offset faultline writes"
        case .writeCgroup(let dir, let file, let value):
            return Cgroups.refusal(dir: dir, file: file, value: value)
        case .setSystemClock(let delta):
            // A step faultline makes is at most a year: the clock it puts back is near the current.
            let move = SystemClock.bootDelta() - delta
            return move.magnitude <= 367 * 86_400 * 1_000_000_000 ? nil : "it would move the system clock by more than a year"
        }
    }

    static func isDevice(_ s: String) -> Bool {
        (1...15).contains(s.utf8.count)
            && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || "-_.".utf8.contains($0) }
    }

    /// `faultline_` then 1 to 40 of [A-Za-z0-9_]. Checked by hand: a regular expression would
    /// load ICU and compile the pattern on the way to injecting a fault.
    public static func isFaultlineTable(_ name: String) -> Bool {
        guard name.hasPrefix("faultline_") else { return false }
        let rest = name.utf8.dropFirst("faultline_".utf8.count)
        return (1...40).contains(rest.count)
            && rest.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 }
    }

    /// Performs the step. "Already gone" is success: there is nothing left to undo.
    public func execute() throws(FaultError) {
        if let refusal { throw FaultError.refused("undo step '\(description)' refused: \(refusal)") }
        switch self {
        case .signal(let p, let sig):
            guard ProcFS.isAlive(p) else { return }
            if kill(p.pid, sig) != 0, errno != ESRCH {
                throw FaultError.system("signal \(sig) to \(p): \(errnoText())")
            }
        case .nftDeleteTable(let t):
            try Self.deleteTable("inet", t)
        case .nftDelete(let family, let t):
            try Self.deleteTable(family, t)
        case .stopQueueEngine(let t):
            _ = NetworkQueueEngine.stop(table: t)
        case .qdiscDelete(let d, let parent, let h):
            do { try TrafficControl().deleteQdisc(device: d, parent: parent, handle: h) } catch { throw FaultError.system("\(error)") }
        case .linkDelete(let l):
            do { try TrafficControl().deleteLink(l) } catch { throw FaultError.system("\(error)") }
        case .proxyRestore(let p, let toxics, let enable):
            guard let server = AgentProxies.server else { return }
            for t in toxics { try? server.removeToxic(p, t) }
            if enable { _ = try? server.update(p, enabled: true, listen: nil, upstream: nil) }
        case .endWorkers(let tag):
            Workers.end(tag: tag)
        case .removeFile(let path):
            if unlink(path) != 0, errno != ENOENT { throw FaultError.system("remove \(path): \(errnoText())") }
        case .setClock(let file, let offset):
            // A lab that is down took its file with it: nothing left to put back.
            guard access(file, F_OK) == 0 else { return }
            try Self.writeClock(file, offset)
        case .writeCgroup(let dir, let file, let value):
            // A cgroup that is gone (its service stopped, the lab went down) holds no limit.
            guard access(dir, F_OK) == 0 else { return }
            do { try Cgroups.write(dir, file, value) } catch { if access("\(dir)/\(file)", F_OK) == 0 { throw error } }
        case .setSystemClock(let delta):
            try SystemClock.set(bootDelta: delta)
        }
    }

    static func deleteTable(_ family: String, _ t: String) throws(FaultError) {
        guard nftTableExists(t, family: family) else { return }
        let r = Spawner.run(.argv(["nft", "delete", "table", family, t]), timeout: 10_000_000_000)
        if r.status != 0, nftTableExists(t, family: family) {
            throw FaultError.system("nft delete table \(family) \(t): \(r.output.trimmingBlanks)")
        }
    }

    /// One netlink dump of the namespace's tables (nothing is started).
    static func nftTableExists(_ table: String, family: String = "inet") -> Bool {
        NetfilterTables.list()?.contains("\(family) \(table)") ?? true
    }

    /// A description of what is still wrong after `execute`, or `nil` when the undo holds.
    public func residue() -> String? {
        switch self {
        case .signal(let p, let sig) where sig == SIGCONT:
            guard ProcFS.isAlive(p), let s = ProcFS.stat(p.pid), s.state == "T" else { return nil }
            return "process \(p) is still stopped"
        case .signal:
            return nil
        case .nftDeleteTable(let t):
            return Self.nftTableExists(t) ? "nft table inet \(t) is still present" : nil
        case .nftDelete(let family, let t):
            return Self.nftTableExists(t, family: family) ? "nft table \(family) \(t) is still present" : nil
        case .stopQueueEngine(let t):
            return NetworkQueueEngine.find(table: t) == nil ? nil : "the delay line of \(t) is still running"
        case .qdiscDelete(let d, _, let h):
            let present = (try? TrafficControl().qdiscs(d))?.contains { $0.handle == h } ?? false
            return present ? "qdisc \(String(h >> 16, radix: 16)): is still on \(d)" : nil
        case .linkDelete(let l):
            return TrafficControl.index(l) == nil ? nil : "link \(l) is still present"
        case .proxyRestore(let p, let toxics, let enable):
            guard let server = AgentProxies.server, let shown = try? server.show(p) else { return nil }
            let left = (shown["toxics"]?.array ?? []).compactMap { $0["name"]?.string }.filter { toxics.contains($0) }
            if !left.isEmpty { return "proxy \(p) still has toxic\(left.count == 1 ? "" : "s") \(left.joined(separator: ", "))" }
            if enable, shown["enabled"] == .bool(false) { return "proxy \(p) is still down" }
            return nil
        case .endWorkers(let tag):
            let left = Workers.find(tag: tag)
            return left.isEmpty
                ? nil
                : "\(left.count) worker\(left.count == 1 ? "" : "s") of \(tag) still running: \(left.map(\.description).joined(separator: ", "))"
        case .removeFile(let path):
            var st = stat()
            return lstat(path, &st) == 0 ? "fill file \(path) is still there" : nil
        case .setClock(let file, let offset):
            guard let now = ProcFS.read(file)?.trimmingBlanks else { return nil }
            return now == offset ? nil : "\(file) holds \(now), not \(offset)"
        case .writeCgroup(let dir, let file, let value):
            guard let now = Cgroups.readBack(dir, file, like: value) else { return nil }
            return Cgroups.same(now, value) ? nil : "\(dir)/\(file) holds \(now), not \(value)"
        case .setSystemClock(let delta):
            let off = SystemClock.bootDelta() - delta
            return off.magnitude < 100_000_000 ? nil : "the system clock is \(FixedText.format(Double(off) / 1e9, 3)) s off where it was"
        }
    }
}
