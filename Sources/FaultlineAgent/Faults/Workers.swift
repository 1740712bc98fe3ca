import FaultlineEssentials
import Glibc

/// What a resource kind's worker process does (`faultline worker NAME …`).
package protocol WorkerBody {
    /// The word after `worker`.
    static var worker: String { get }
    /// Runs until killed or until `parent` is no longer its parent; 64 for arguments it cannot use.
    static func work(_ values: [String: String], parent: Int32) -> Int32
}

/// Work that names what it creates after its run and fault (`faultline_<run>_<index>`), set by
/// the runner when it expands the fault, so the ledger's undo can name it before it exists.
public protocol TaggedWork: FaultWork {
    var tag: String { get set }
}

/// Resource workers: processes of the agent's own executable (`… worker cpu|memory --tag T …`),
/// children of the agent, named by their fault's tag (`faultline_<run>_<index>`).
///
/// Own code rather than stress-ng: an ssh host needs nothing installed, a worker is a loop of a
/// few lines, and its identity (its tag on our own executable) is what the ledger's undo names
/// before any worker exists. A worker ends itself within 100 ms of its agent's end (it is then
/// no longer the agent's child: PR_SET_PDEATHSIG would follow the agent's *thread* that started
/// it, which ends long before the fault); the ledger's `endWorkers` is the undo all the same.
package enum Workers {
    /// Starts `count` workers of `kind` with `arguments`; their refs, or the failure.
    static func start(_ kind: String, tag: String, count: Int, _ arguments: [String]) throws(FaultError) -> [ProcessRef] {
        var started: [ProcessRef] = []
        for _ in 0..<count {
            let argv = ["/proc/self/exe", "worker", kind, "--tag", tag, "--parent", "\(getpid())"] + arguments
            switch Launcher.spawn(argv, Launcher.Options()) {
            case .success(let pid):
                guard let s = ProcFS.stat(pid) else { continue }
                started.append(ProcessRef(pid: pid, startTime: s.startTime, name: "\(kind) worker"))
            case .failure(let f):
                end(tag: tag)
                throw FaultError.system("starting a \(kind) worker: \(f.text)")
            }
        }
        return started
    }

    /// Refuses work whose tag is not faultline's, or whose workers already run.
    static func requireFresh(tag: String, kind: String) throws(FaultError) {
        guard UndoStep.isFaultlineTable(tag) else { throw FaultError.refused("\(kind) fault without its tag (a faultline bug)") }
        guard find(tag: tag).isEmpty else { throw FaultError.refused("workers of \(tag) are running already") }
    }

    /// Refuses `path` unless it is a folder here, and (unless allowed) not on the filesystem of
    /// the agent's state directory, which holds its ledger. `verb`: what the fault would do to it.
    static func requireFolder(_ path: String, allowStateFilesystem: Bool, verb: String) throws(FaultError) {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw FaultError.target("'\(path)' is not a folder on this host")
        }
        if !allowStateFilesystem, let dir = AgentServer.stateDirectory(onDevice: UInt64(st.st_dev)) {
            throw FaultError.refused(
                "'\(path)' is on the filesystem of the agent's state directory \(dir) (its ledger): say 'allow_state_filesystem: true' to \(verb) it anyway"
            )
        }
    }

    /// The live workers of `tag` (zombies are gone already).
    package static func find(tag: String) -> [ProcessRef] {
        ProcFS.pids().compactMap { pid -> ProcessRef? in
            let words = ProcFS.cmdline(pid)
            guard words.count >= 5, words[1] == "worker", words[3] == "--tag", words[4] == tag, let s = ProcFS.stat(pid),
                s.state != "Z", s.state != "X",
                ProcFS.executable(pid).map { $0.split(separator: "/").last?.hasPrefix("faultline") == true } ?? false
            else { return nil }
            return ProcessRef(pid: pid, startTime: s.startTime, name: "\(words[2]) worker")
        }
    }

    /// Ends every worker of `tag` (SIGKILL) and reaps the ones that are this process's children.
    package static func end(tag: String) {
        let live = find(tag: tag)
        for w in live { kill(w.pid, SIGKILL) }
        let deadline = MonotonicClock.now() + 1_000_000_000
        for w in live {
            var status: Int32 = 0
            while waitpid(w.pid, &status, WNOHANG) == 0, MonotonicClock.now() < deadline { usleep(1_000) }
        }
    }

    /// CPU time (user + system) a process used so far, in clock ticks.
    static func cpuTicks(_ pid: Int32) -> UInt64? {
        ProcFS.withContents("/proc/\(pid)/stat", capacity: 1024) { b -> UInt64? in
            guard let close = b.lastIndex(of: UInt8(ascii: ")")) else { return nil }
            let fields = b[(close + 2)...].split(separator: UInt8(ascii: " "))
            // After the comm: state is field 3; utime 14 and stime 15 (indices 11 and 12 here).
            guard fields.count > 12, let u = UInt64(String(decoding: fields[11], as: UTF8.self)),
                let s = UInt64(String(decoding: fields[12], as: UTF8.self))
            else { return nil }
            return u + s
        }
    }

    /// Resident set size in bytes (`VmRSS`).
    static func residentBytes(_ pid: Int32) -> UInt64? { kibField(ProcFS.read("/proc/\(pid)/status"), "VmRSS:") }

    /// `NAME:   123 kB` of /proc/PID/status or /proc/meminfo (spaces or tabs), in bytes.
    static func kibField(_ text: String?, _ name: String) -> UInt64? {
        guard let text, let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name) }),
            let kb = line.dropFirst(name.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap({ UInt64($0) })
        else { return nil }
        return kb * 1024
    }

    /// `some avg10` of a pressure file (`/proc/pressure/cpu`), in percent.
    static func pressure(_ resource: String) -> Double? {
        guard let text = ProcFS.read("/proc/pressure/\(resource)"),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("some") }),
            let field = line.split(separator: " ").first(where: { $0.hasPrefix("avg10=") })
        else { return nil }
        return Double(field.dropFirst(6))
    }

    /// `MemAvailable` in bytes.
    static func memAvailable() -> UInt64? { kibField(ProcFS.read("/proc/meminfo"), "MemAvailable:") }

    // MARK: - The workers themselves

    /// `worker KIND --tag T --parent PID …`: runs until killed, or until its parent is gone.
    package static func run(_ words: [String]) -> Int32 {
        var values: [String: String] = [:]
        var rest = words.dropFirst()[...]
        while let w = rest.popFirst() {
            guard w.hasPrefix("--"), let v = rest.popFirst() else { return ExitCode.badInput }
            values[w] = v
        }
        guard let kind = words.first, let parentText = values["--parent"], let parent = Int32(parentText), values["--tag"] != nil,
            let body = FaultEffects.workers.first(where: { $0.worker == kind })
        else { return ExitCode.badInput }
        if getppid() != parent { return 0 }
        return body.work(values, parent: parent)
    }
}
