internal import CLinux
import FaultlineEssentials
import Glibc

/// The registry of fault effects, what an agent performs: the one list of them in
/// FaultlineAgent (`FaultDrivers` lists the same types with their runner's side).
public enum FaultEffects {
    static let registered: [any FaultEffect] = [
        KillDriver(),
        PauseDriver(),
        PartitionDriver(),
        NetworkDriver(),
        ProxyDriver(),
        CPUDriver(),
        MemoryDriver(),
        DiskFillDriver(),
        IODriver(),
        ClockDriver(),
    ]

    /// The kinds whose effect runs worker processes (`faultline worker NAME`).
    static let workers: [any WorkerBody.Type] = [CPUDriver.self, MemoryDriver.self, IODriver.self]

    /// The effect that performs a work item.
    static func effect(for work: AnyFaultWork) -> (any FaultEffect)? {
        registered.first { $0.workKey == work.key }
    }

    static func workType(for key: String) -> (any FaultWork.Type)? {
        registered.first { $0.workKey == key }?.workType
    }

    /// Reverts an injection: runs its undo steps in reverse and returns what is still wrong.
    public static func revert(_ injection: Injection) throws(FaultError) -> [String] {
        for step in injection.undo.reversed() { try step.execute() }
        // The kernel applies SIGCONT asynchronously to the scheduler; allow it a moment.
        let deadline = MonotonicClock.now() + 200_000_000
        while true {
            let residue = injection.undo.compactMap { $0.residue() }
            if residue.isEmpty || MonotonicClock.now() > deadline { return residue }
            usleep(1_000)
        }
    }

    /// Waits until every target has exited (a zombie counts), or the deadline passes: each live
    /// target's pidfd is polled, so the exit is seen the moment it happens rather than at the
    /// next tick of a poll loop. Where pidfds are not available (Linux before 5.3), polls /proc.
    package static func awaitExit(_ targets: [ProcessRef], deadline: Int64) -> Confirmation {
        var live: [(ProcessRef, Int32)] = []
        defer { for (_, fd) in live { close(fd) } }
        for t in targets {
            let fd = faultline_pidfd_open(t.pid)
            if fd < 0 {
                if errno == ESRCH { continue }  // gone already
                for (_, fd) in live { close(fd) }
                live = []
                return poll(targets, deadline: deadline, what: "gone") { !ProcFS.isAlive($0) }
            }
            // The pidfd names whatever process has the pid now: it is the target only if that
            // process has the target's start time (checked after opening it, so it cannot change).
            if ProcFS.isAlive(t) { live.append((t, fd)) } else { close(fd) }
        }
        var fds = live.map { pollfd(fd: $0.1, events: Int16(POLLIN), revents: 0) }
        while fds.contains(where: { $0.revents == 0 }) {
            let now = MonotonicClock.now()
            if now > deadline {
                let missing = zip(live, fds).filter { $0.1.revents == 0 }.map(\.0.0.description)
                return Confirmation(ok: false, detail: "not gone before the confirm timeout: \(missing.joined(separator: ", "))", at: nil)
            }
            var waiting = fds.filter { $0.revents == 0 }
            let ms = Int32(clamping: max(1, (deadline - now) / 1_000_000))
            let n = Glibc.poll(&waiting, nfds_t(waiting.count), ms)
            if n < 0, errno != EINTR { return poll(targets, deadline: deadline, what: "gone") { !ProcFS.isAlive($0) } }
            for w in waiting where w.revents != 0 {
                if let i = fds.firstIndex(where: { $0.fd == w.fd }) { fds[i].revents = w.revents }
            }
        }
        return Confirmation(ok: true, detail: "gone: \(targets.map(\.description).joined(separator: ", "))", at: MonotonicClock.now())
    }

    /// Polls `check` every 500µs until it holds for every target or the deadline passes.
    static func poll(_ targets: [ProcessRef], deadline: Int64, what: String, _ check: (ProcessRef) -> Bool) -> Confirmation {
        while true {
            let now = MonotonicClock.now()
            let missing = targets.filter { !check($0) }
            if missing.isEmpty {
                return Confirmation(ok: true, detail: "\(what): \(targets.map(\.description).joined(separator: ", "))", at: now)
            }
            if now > deadline {
                return Confirmation(
                    ok: false, detail: "not \(what) before the confirm timeout: \(missing.map(\.description).joined(separator: ", "))",
                    at: nil)
            }
            usleep(500)
        }
    }

    static func send(_ signal: Int32, to targets: [ProcessRef]) throws(FaultError) {
        for t in targets {
            // Re-check identity right before signalling: the pid may have been reused since prepare.
            guard ProcFS.isAlive(t) else { throw FaultError.target("process \(t) exited before it could be signalled") }
            if kill(t.pid, signal) != 0 { throw FaultError.system("signal \(signal) to \(t): \(errnoText())") }
        }
    }
}

/// The type-erased calls the agent makes on an effect it found in the registry.
extension FaultEffect {
    var workKey: String { Work.key }
    var workType: any FaultWork.Type { Work.self }

    func work(_ w: AnyFaultWork) throws(FaultError) -> Work {
        guard let typed = w.work as? Work else { throw FaultError.refused("the \(Work.key) driver was given '\(w.key)' work") }
        return typed
    }

    func prepareAny(_ w: AnyFaultWork) throws(FaultError) -> Injection { try prepare(try work(w)) }

    func applyAny(_ w: AnyFaultWork, _ injection: Injection) throws(FaultError) { try apply(try work(w), injection) }

    func confirmAny(_ w: AnyFaultWork, _ injection: Injection, deadline: Int64) -> Confirmation {
        guard let typed = try? work(w) else { return Confirmation(ok: false, detail: "not \(Work.key) work", at: nil) }
        return confirm(typed, injection, deadline: deadline)
    }

    func measureAny(_ w: AnyFaultWork, _ injection: Injection) -> String? {
        (try? work(w)).flatMap { measure($0, injection) }
    }

    func tickAny(_ w: AnyFaultWork, _ injection: Injection) {
        if let typed = try? work(w) { tick(typed, injection) }
    }

}
