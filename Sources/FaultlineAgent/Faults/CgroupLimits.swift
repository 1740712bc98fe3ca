import FaultlineEssentials
import Glibc

/// The limit form of the `cpu` and `memory` kinds: the targets' cgroups get the limit, each
/// file's old value recorded first (the undo), and their own counters (throttling, the limit
/// hit, OOM kills) are the effect measured. One mechanism both kinds' effects call.
enum CgroupLimits {
    /// Finds the targets' cgroups and reads what each limit file holds; changes nothing.
    static func prepare(_ limit: CgroupLimit) throws(FaultError) -> Injection {
        let targets = try ProcessResolver.targets(limit.process)
        let mounts = Cgroups.mounts()
        var writes: [UndoStep] = []
        var undo: [UndoStep] = []
        var dirs: [String] = []
        for setting in limit.settings {
            let controller = setting.controller
            var done: Set<String> = []
            for t in targets {
                let place: Cgroups.Place
                switch Cgroups.place(pid: t.pid, controller: controller, mounts: mounts) {
                case .success(let p): place = p
                case .failure(let e): throw e
                }
                guard !done.contains(place.dir) else { continue }
                done.insert(place.dir)
                if place.path == "/" {
                    throw FaultError.refused(
                        "\(t) is in the root cgroup of the \(controller) controller: a limit there would be the whole host's (the root takes none); the target needs a cgroup of its own (a systemd unit, a lab service with 'cgroup: true')"
                    )
                }
                if case .success(let mine) = Cgroups.place(pid: getpid(), controller: controller, mounts: mounts),
                    mine.dir == place.dir || mine.dir.hasPrefix(place.dir + "/")
                {
                    throw FaultError.refused("the agent itself runs in \(place.dir): the limit would hold back its own revert")
                }
                var device = ""
                var oldLine = ""
                if case .ioMax(let path, _, _, _, _) = setting {
                    switch Cgroups.disk(of: path) {
                    case .success(let d): device = d
                    case .failure(let e): throw e
                    }
                    oldLine = Cgroups.readBack(place.dir, "io.max", like: device) ?? ""
                }
                guard let files = setting.files(v2: place.version == .v2, device: device, old: oldLine) else {
                    throw FaultError.refused(
                        "\(setting) needs cgroup v2, and \(t)'s \(controller) controller is on cgroup v1 here (\(place.dir)); use 'max'")
                }
                for (file, value) in files {
                    guard let old = Cgroups.readBack(place.dir, file, like: value) else {
                        throw FaultError.refused(
                            "\(place.dir) has no \(file): the \(controller) controller is not enabled for that cgroup (its parent's cgroup.subtree_control)"
                        )
                    }
                    writes.append(.writeCgroup(dir: place.dir, file: file, value: value))
                    undo.insert(.writeCgroup(dir: place.dir, file: file, value: old), at: 0)
                }
                if !dirs.contains(place.dir) { dirs.append(place.dir) }
            }
        }
        var i = Injection(
            targets: targets, undo: undo,
            summary:
                "\(limit.description) on \(dirs.joined(separator: ", ")) (the cgroup of \(targets.map(\.description).joined(separator: ", ")))"
        )
        i.writes = writes
        i.baseline = counters(dirs)
        i.baseline["started"] = Double(MonotonicClock.now())
        i.baseline["target_ticks"] = Double(targets.compactMap { Workers.cpuTicks($0.pid) }.reduce(0, +))
        return i
    }

    static func apply(_ injection: Injection) throws(FaultError) {
        for case .writeCgroup(let dir, let file, let value) in injection.writes ?? [] {
            // A memory limit below what the cgroup uses is met in this write: the kernel reclaims
            // and OOM-kills in the writer's context, for up to seconds. At the instant's realtime
            // priority that would starve the agent's other threads (its lease renewals) on a
            // host of one CPU; the write is made at the normal priority.
            if file.hasPrefix("memory.") { demoteFromRealtime() }
            if let refusal = Cgroups.refusal(dir: dir, file: file, value: value) { throw FaultError.refused(refusal) }
            try Cgroups.write(dir, file, value)
        }
    }

    /// The directories an injection limits, in order.
    static func dirs(_ injection: Injection) -> [String] {
        var out: [String] = []
        for case .writeCgroup(let dir, _, _) in injection.writes ?? [] where !out.contains(dir) { out.append(dir) }
        return out
    }

    /// Every limit reads back as written, then the kernel's own account: for CPU, the first
    /// throttled period (looked for up to 300 ms: an idle target is never throttled, and that
    /// is said, not failed); for memory, the usage beside the limit.
    static func confirm(_ injection: Injection, deadline: Int64) -> Confirmation {
        for case .writeCgroup(let dir, let file, let value) in injection.writes ?? [] {
            let now = Cgroups.readBack(dir, file, like: value)
            guard let now, Cgroups.same(now, value) else {
                return Confirmation(ok: false, detail: "\(dir)/\(file) reads \(now ?? "nothing (gone)"), not \(value)", at: nil)
            }
        }
        let at = MonotonicClock.now()
        let dirs = dirs(injection)
        let files = (injection.writes ?? []).compactMap { step -> String? in
            if case .writeCgroup(_, let f, _) = step { return f }
            return nil
        }
        var detail = "set on \(dirs.joined(separator: ", "))"
        if files.contains(where: { $0.hasPrefix("cpu.") }) {
            let before = injection.baseline["nr_throttled"] ?? 0
            let until = min(deadline, at + 300_000_000)
            var throttled: Double = 0
            while true {
                throttled = (counters(dirs)["nr_throttled"] ?? 0) - before
                if throttled > 0 || MonotonicClock.now() >= until { break }
                usleep(5_000)
            }
            let ms = Double(MonotonicClock.now() - at) / 1e6
            detail +=
                throttled > 0
                ? "; throttled in \(Int(throttled)) period\(throttled == 1 ? "" : "s") within \(Int(ms.rounded(.up))) ms"
                : "; not throttled within \(Int(ms.rounded(.up))) ms (the cgroup used less than its quota)"
        }
        if files.contains(where: { $0.hasPrefix("memory.") }) {
            let c = counters(dirs)
            if let usage = c["usage"] { detail += "; usage \(ByteSizeText.format(UInt64(usage)))" }
            if let kills = c["oom_kill"], kills > (injection.baseline["oom_kill"] ?? 0) {
                detail += ", \(Int(kills - (injection.baseline["oom_kill"] ?? 0))) OOM kill(s) already"
            }
        }
        return Confirmation(ok: true, detail: detail, at: at)
    }

    /// What the kernel did while the limit held, from the cgroups' counters.
    static func measure(_ limit: CgroupLimit, _ injection: Injection) -> String? {
        let dirs = dirs(injection)
        let now = counters(dirs)
        let base = injection.baseline
        let delta: (String) -> Double? = { k in now[k].map { $0 - (base[k] ?? 0) } }
        let seconds = base["started"].map { Double(MonotonicClock.now() - Int64($0)) / 1e9 } ?? 0
        var parts: [String] = []
        if limit.settings.contains(where: { $0.controller == .cpu }) {
            let throttled = delta("nr_throttled") ?? 0
            let periods = delta("nr_periods").map { " of \(Int($0))" } ?? ""
            parts.append("throttled in \(Int(throttled))\(periods) periods")
            if let t = delta("throttled_us") { parts.append("\(FixedText.format(t / 1e6, 2)) s held back") }
            // v1 keeps CPU time on another hierarchy (cpuacct): then the targets' own, while alive.
            let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
            let ticks = Double(injection.targets.filter(ProcFS.isAlive).compactMap { Workers.cpuTicks($0.pid) }.reduce(0, +))
            let targetUse = (ticks - (base["target_ticks"] ?? 0)) / hz * 1e6
            if let used = delta("usage_us") ?? (targetUse >= 0 ? targetUse : nil), seconds > 0 {
                parts.append(
                    "used \(FixedText.format(used / 1e6, 2)) CPU-s in \(FixedText.format(seconds, 1)) s (\(Int((used / 1e4 / seconds).rounded()))% of a CPU)"
                )
            }
        }
        if limit.settings.contains(where: { $0.controller == .io }), seconds > 0 {
            let r = delta("rbytes") ?? 0
            let w = delta("wbytes") ?? 0
            parts.append(
                "the cgroup read \(ByteSizeText.format(UInt64(max(0, r / seconds))))/s and wrote \(ByteSizeText.format(UInt64(max(0, w / seconds))))/s on the disk"
            )
        }
        if limit.settings.contains(where: { $0.controller == .memory }) {
            if let k = delta("oom_kill") { parts.append("\(Int(k)) OOM kill\(k == 1 ? "" : "s")") }
            if let m = delta("max") { parts.append("the limit hit \(Int(m)) time\(m == 1 ? "" : "s")") }
            let high = limit.settings.contains { if case .memoryHigh = $0 { return true } else { return false } }
            if high, let h = delta("high") { parts.append("memory.high passed \(Int(h)) time\(h == 1 ? "" : "s")") }
            if let u = now["usage"] { parts.append("usage \(ByteSizeText.format(UInt64(u))) now") }
            if let p = dirs.compactMap({ Cgroups.pressure($0, CgroupController.memory.rawValue) }).max() {
                parts.append("memory pressure (some, avg10) \(FixedText.format(p, 1))%")
            }
        }
        return "\(limit.description) over \(FixedText.format(seconds, 1)) s: " + parts.joined(separator: "; ")
    }

    /// The counters of `dirs`, summed, in one set of names whatever the version: `nr_periods`,
    /// `nr_throttled`, `throttled_us`, `usage_us` (v2), `max`, `high`, `oom_kill`, `usage`.
    static func counters(_ dirs: [String]) -> [String: Double] {
        var out: [String: Double] = [:]
        let add = { (k: String, v: Double?) in if let v { out[k, default: 0] += v } }
        for dir in dirs {
            if let stat = ProcFS.read("\(dir)/cpu.stat") {
                add("nr_periods", Cgroups.field(stat, "nr_periods"))
                add("nr_throttled", Cgroups.field(stat, "nr_throttled"))
                add("throttled_us", Cgroups.field(stat, "throttled_usec") ?? Cgroups.field(stat, "throttled_time").map { $0 / 1000 })
                add("usage_us", Cgroups.field(stat, "usage_usec"))
            }
            if let events = ProcFS.read("\(dir)/memory.events") {
                add("max", Cgroups.field(events, "max"))
                add("high", Cgroups.field(events, "high"))
                add("oom_kill", Cgroups.field(events, "oom_kill"))
                add("usage", Cgroups.read(dir, "memory.current").flatMap { Double($0) })
            }
            // Bytes done on every disk: v2 `io.stat`, v1 the throttle's own account.
            if let stat = ProcFS.read("\(dir)/io.stat") {
                for line in stat.split(separator: "\n") {
                    for word in line.split(separator: " ").dropFirst() {
                        let kv = word.split(separator: "=")
                        if kv.count == 2, kv[0] == "rbytes" || kv[0] == "wbytes" { add(String(kv[0]), Double(kv[1])) }
                    }
                }
            } else if let bytes = ProcFS.read("\(dir)/blkio.throttle.io_service_bytes") {
                for line in bytes.split(separator: "\n") {
                    let w = line.split(separator: " ")
                    if w.count == 3, w[1] == "Read" { add("rbytes", Double(w[2])) }
                    if w.count == 3, w[1] == "Write" { add("wbytes", Double(w[2])) }
                }
            }
            if ProcFS.read("\(dir)/memory.events") != nil {
            } else if let failcnt = Cgroups.read(dir, "memory.failcnt") {
                add("max", Double(failcnt))
                add("oom_kill", Cgroups.field(ProcFS.read("\(dir)/memory.oom_control"), "oom_kill"))
                add("usage", Cgroups.read(dir, "memory.usage_in_bytes").flatMap { Double($0) })
            }
        }
        return out
    }
}
