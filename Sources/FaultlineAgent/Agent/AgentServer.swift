import Dispatch
import FaultlineEssentials
import FoundationEssentials
import Glibc

/// `faultline agent`: runs faults on its host for one run, under a lease.
///
/// Three threads: the main thread reads requests (lease renewals are applied at once, other
/// requests go to one serial worker), the worker performs them, and a watchdog reverts
/// everything and exits when the lease lapses or stdin closes, and reverts any fault whose
/// hard TTL has passed. A fault therefore never outlives its runner by more than the lease.
public final class AgentServer: @unchecked Sendable {
    struct Held {
        var work: AnyFaultWork
        var injection: Injection
        var ledgerId: Int
        var deadline: Int64
    }

    let runId: String
    let stateDirectory: String
    /// Started inside a lab host: /proc shows only this host's processes.
    let ownPIDNamespace: Bool
    /// Serialises everything that touches faults: worker requests, TTL reverts, lapse.
    private let faults = Lock()
    private var held: [(name: String, held: Held)] = []
    private var ledger: Ledger?
    private var snapshot: HostSnapshot?
    private let leaseLock = Lock()
    private var leaseDeadline = Int64.max
    private let writeLock = Lock()
    private let worker = DispatchQueue(label: "faultline.agent.worker")

    public init(runId: String, stateDirectory: String, ownPIDNamespace: Bool = false) {
        self.runId = runId
        self.stateDirectory = stateDirectory
        self.ownPIDNamespace = ownPIDNamespace
    }

    /// Serves until `bye`, end of input, or a lapsed lease; returns the exit code.
    /// The state directory of the agent this process serves (faults that must not fill or
    /// break its filesystem read it).
    package static let stateDirectoryInUse = Locked<String?>(nil)

    /// The state directory, when `device` (a `st_dev`) is its filesystem's.
    package static func stateDirectory(onDevice device: UInt64) -> String? {
        guard let dir = stateDirectoryInUse.value else { return nil }
        var st = stat()
        return stat(dir, &st) == 0 && UInt64(st.st_dev) == device ? dir : nil
    }

    public func serve() -> Int32 {
        Self.stateDirectoryInUse.mutate { $0 = stateDirectory }
        signal(SIGINT, SIG_IGN)  // the runner decides; a Ctrl-C at the terminal must not kill us
        signal(SIGPIPE, SIG_IGN)
        let watchdog = PThread { [self] in self.watch() }
        watchdog.start()
        // Realtime, as the threads of armed faults are: a go line is read the moment it
        // arrives, not when the scheduler next gets round to this agent among 32 others.
        _ = promoteToRealtime(priority: 5)
        let decoder = FaultlineJSON.decoder()
        // Armed requests by id, each on its thread waiting for its go; read by this thread alone.
        var armed: [Int: Armed] = [:]
        while let line = readLine(strippingNewline: true) {
            if let ids = AgentRequest.goIds(line.utf8) {
                // The faults of one instant: each finds its processes in a table of the host
                // read after this instant, so they share one scan of /proc (`ProcessTable`).
                let instant = MonotonicClock.now()
                let batch = InstantBatch(count: ids.filter { armed[$0] != nil }.count)
                for id in ids {
                    if let a = armed.removeValue(forKey: id) {
                        a.fire(at: instant, with: batch)
                    } else {
                        respond(AgentResponse(id: id, ok: false, error: "agent: go for request \(id), which was not armed"))
                    }
                }
                continue
            }
            guard let request = try? decoder.decode(AgentRequest.self, from: Data(line.utf8)) else {
                respond(AgentResponse(id: -1, ok: false, error: "agent: unreadable request: \(line.prefix(200))"))
                continue
            }
            if request.armed == true {
                armed[request.id] = arm(request)
                continue
            }
            switch request.op {
            case .lease(let ns):
                extendLease(ns)
                // Acknowledged at once, not behind a slow request: the runner's sign of life,
                // and a reading of this host's clock for the runner to map its instants.
                var ack = AgentResponse(id: 0, ok: true)
                ack.now = MonotonicClock.now()
                respond(ack)
            case .hello(let ns):
                extendLease(ns)
                var r = AgentResponse(id: request.id, ok: true)
                r.pid = getpid()
                do {
                    // Fail now, before anything is injected, if the ledger cannot be written.
                    try Ledger.ensureDirectory(stateDirectory)
                } catch {
                    r.ok = false
                    r.error = "\(error)"
                }
                r.now = MonotonicClock.now()
                respond(r)
            case .bye:
                worker.sync {}
                lapse(reason: nil)
            default:
                perform(request)
            }
        }
        worker.sync {}
        lapse(reason: "the runner closed the connection")
    }

    /// Runs a request: an inject on a thread of its own, so that the faults of one instant are
    /// prepared, recorded, applied and confirmed together (a partition's confirmation takes
    /// its probes' time, and the kill beside it must not wait for them); anything else in
    /// order, on the worker.
    private func perform(_ request: AgentRequest) {
        guard case .inject = request.op else {
            worker.async { self.respond(self.handle(request)) }
            return
        }
        let t = PThread { self.respond(self.handle(request)) }
        t.stackSize = 1 << 20
        t.start()
    }

    func extendLease(_ ns: Int64) {
        leaseLock.lock()
        leaseDeadline = MonotonicClock.now() + ns
        leaseLock.unlock()
    }

    /// Answers one request. Only what touches the faults held, the ledger or the snapshot takes
    /// the `faults` lock, and only while it does: finding processes (a fault's prepare, a heal
    /// watch's `find`) runs outside it, so no selection can hold up a TTL revert or a lapse.
    func handle(_ request: AgentRequest) -> AgentResponse {
        switch request.op {
        case .inject(let name, let work, let ttl, let confirmTimeout):
            return inject(request.id, name: name, work: work, ttl: ttl, confirmTimeout: confirmTimeout)
        case .reach, .find, .capability, .proxies, .hello, .lease, .bye:
            return unlocked(request)
        default:
            faults.lock()
            defer { faults.unlock() }
            return locked(request)
        }
    }

    private func locked(_ request: AgentRequest) -> AgentResponse {
        switch request.op {
        case .snapshot:
            let (s, problems) = HostSnapshot.take(ownPIDNamespace: ownPIDNamespace)
            snapshot = s
            var r = AgentResponse(id: request.id, ok: true)
            r.residue = problems
            return r
        case .revert(let name):
            guard let i = held.firstIndex(where: { $0.name == name }) else {
                var r = AgentResponse(id: request.id, ok: true)
                r.detail = "nothing held"
                return r
            }
            return revert(request.id, held.remove(at: i))
        case .revertAll:
            var residue: [String] = []
            while let h = held.popLast() { residue += revert(request.id, h).residue ?? [] }
            var r = AgentResponse(id: request.id, ok: true)
            r.residue = residue
            return r
        case .residue:
            var r = AgentResponse(id: request.id, ok: true)
            r.residue = residue()
            return r
        default:
            return unlocked(request)
        }
    }

    private func unlocked(_ request: AgentRequest) -> AgentResponse {
        switch request.op {
        case .reach(let addresses):
            var r = AgentResponse(id: request.id, ok: true)
            let reached = TCPConnect.answering(addresses, port: 9, timeout: Self.reachTimeout)
            r.detail = addresses.filter(reached.contains).joined(separator: ",")
            return r
        case .find(let selector):
            var r = AgentResponse(id: request.id, ok: true)
            do throws(FaultError) {
                r.detail = try ProcessResolver.matches(selector).map { "\($0.pid)@\($0.startTime)" }.joined(separator: ",")
            } catch {
                r.ok = false
                r.error = error.description
            }
            return r
        case .capability(let name):
            var r = AgentResponse(id: request.id, ok: true)
            if let answer = HostCapability.answer(name) {
                r.detail = answer
            } else {
                r.ok = false
                r.error = "unknown capability '\(name)'"
            }
            return r
        case .proxies(let decls):
            var r = AgentResponse(id: request.id, ok: true)
            switch AgentProxies.start(decls) {
            case .success(let lines): r.detail = lines.joined(separator: "\n")
            case .failure(let e):
                r.ok = false
                r.error = "\(e)"
            }
            return r
        default:
            return AgentResponse(id: request.id, ok: true)
        }
    }

    /// The go line's batch an inject belongs to (nil: an inject on its own).
    @TaskLocal static var batch: InstantBatch?

    /// An armed request: its thread, started when it was armed, waits for the go line.
    final class Armed: @unchecked Sendable {
        private let go = DispatchSemaphore(value: 0)
        private var fired: (Int64, InstantBatch)?

        /// Lets the request run, for the instant its go line arrived, with the others of it.
        func fire(at instant: Int64, with batch: InstantBatch) {
            fired = (instant, batch)
            go.signal()
        }

        func wait() -> (Int64, InstantBatch) {
            go.wait()
            return fired ?? (MonotonicClock.now(), InstantBatch(count: 1))
        }
    }

    /// The injects of one go line: each stages its ledger entry, and once all have (or 20 ms
    /// have passed), their entries are made durable in one write.
    final class InstantBatch: @unchecked Sendable {
        private let condition = Condition()
        private var waiting: Int

        init(count: Int) { waiting = count }

        /// This inject's entry is staged (or it failed before it could be): wait for the others.
        func arrive() {
            condition.lock()
            defer { condition.unlock() }
            waiting -= 1
            if waiting <= 0 {
                condition.broadcast()
                return
            }
            let until = MonotonicClock.now() + 20_000_000
            while waiting > 0, condition.wait(until: until) {}
        }
    }

    /// Starts an armed request's thread: it readies the request (`warm`), then waits for its
    /// go, so that at the instant nothing is left to start — the go line only wakes it.
    func arm(_ request: AgentRequest) -> Armed {
        let a = Armed()
        let t = PThread {
            self.warm(request)
            // Realtime while it waits and fires (below the delay line's priority): woken by the
            // go line at once, not at the scheduler's next tick behind the host's other work.
            _ = promoteToRealtime(priority: 5)
            let (instant, batch) = a.wait()
            ProcessTable.$instant.withValue(instant) {
                Self.$batch.withValue(batch) { self.respond(self.handle(request)) }
            }
        }
        t.stackSize = 1 << 20
        t.start()
        return a
    }

    /// Readies an armed inject while it waits for its go: the ledger opened, and the driver's
    /// prepare run once for nothing (it changes nothing: it finds the targets and checks the
    /// rules), so that at the instant its code and the files it reads are warm. The instant's
    /// own prepare decides; this one's result is dropped.
    func warm(_ request: AgentRequest) {
        guard case .inject(_, let work, _, _) = request.op, let driver = FaultEffects.effect(for: work) else { return }
        faults.lock()
        if ledger == nil { ledger = try? Ledger(directory: stateDirectory, runId: runId) }
        faults.unlock()
        _ = try? driver.prepareAny(work)
    }

    /// A TCP connect to port 9 that gets no answer (accepted or refused) this soon is cut.
    static let reachTimeout: Int64 = 150_000_000

    /// Prepares (finds the targets, changes nothing) and records in the ledger outside the
    /// `faults` lock — concurrent injects share the ledger's writes (group commit) — then holds
    /// and applies under it (a lapse or a TTL revert never meets a half-applied fault), then
    /// confirms outside it again.
    func inject(_ id: Int, name: String, work: AnyFaultWork, ttl: Int64, confirmTimeout: Int64) -> AgentResponse {
        var r = AgentResponse(id: id, ok: false)
        do {
            // Arrives in its batch once, however it ends: the others wait for it at most 20 ms.
            var arrived = false
            defer { if !arrived { Self.batch?.arrive() } }
            guard let driver = FaultEffects.effect(for: work) else { throw FaultError.refused("no driver for '\(work.key)' work") }
            let injection = try driver.prepareAny(work)
            let ledger = try openLedger()
            let (ledgerId, generation) = try ledger.stage(fault: name, host: work.host, summary: injection.summary, undo: injection.undo)
            arrived = true
            Self.batch?.arrive()
            try ledger.commit(generation)
            try applying {
                // What has nothing to undo (a kill) is not held: no TTL, no revert, the ledger
                // keeps it for the audit trail.
                if !injection.undo.isEmpty {
                    held.append((name, Held(work: work, injection: injection, ledgerId: ledgerId, deadline: MonotonicClock.now() + ttl)))
                }
                r.injectedAt = MonotonicClock.now()
                try driver.applyAny(work, injection)
            }
            r.detail = injection.summary
            // The instant is past: confirming (probes, polls, up to seconds) runs on the normal
            // scheduler. Left realtime, 32 confirms starve the host's ordinary threads — on a
            // lab host the runner's own lease renewals — for as long as the kernel's realtime
            // throttling allows (950 ms of every second).
            if Self.batch != nil { demoteFromRealtime() }
            let c = driver.confirmAny(work, injection, deadline: MonotonicClock.now() + confirmTimeout)
            r.ok = true
            r.confirmed = c.ok
            r.confirmedAt = c.at
            r.confirmation = c.detail
            if !c.ok { r.error = c.detail }
        } catch {
            r.error = "\(error)"
        }
        return r
    }

    /// The run's ledger, opened once.
    private func openLedger() throws -> Ledger {
        faults.lock()
        defer { faults.unlock() }
        if let ledger { return ledger }
        let opened = try Ledger(directory: stateDirectory, runId: runId)
        ledger = opened
        return opened
    }

    private func applying(_ body: () throws -> Void) throws {
        faults.lock()
        defer { faults.unlock() }
        try body()
    }

    @discardableResult
    func revert(_ id: Int, _ h: (name: String, held: Held)) -> AgentResponse {
        var r = AgentResponse(id: id, ok: true)
        // What the fault did, read before its mechanism is taken down.
        let measured = FaultEffects.effect(for: h.held.work)?.measureAny(h.held.work, h.held.injection)
        r.measured = measured
        do {
            r.residue = try FaultEffects.revert(h.held.injection).map { "\(h.name): \($0)" }
            try ledger?.markReverted(h.held.ledgerId)
            r.revertedAt = MonotonicClock.now()
            r.detail = h.held.injection.undo.map(\.description).joined(separator: "; ")
        } catch {
            r.ok = false
            r.error = "revert \(h.name): \(error)"
            r.residue = ["\(h.name): revert failed: \(error)"]
        }
        return r
    }

    func residue() -> [String] {
        var out = held.map { "fault '\($0.name)' still held" }
        if let ledger {
            out += ledger.pending.map { "ledger entry '\($0.fault)' still pending: \($0.summary)" }
            ledger.closeIfClean()
        }
        if let snapshot { out += HostSnapshot.take(ownPIDNamespace: ownPIDNamespace).0.differences(from: snapshot) }
        return out
    }

    /// Checks the lease and the TTLs every 10 ms.
    private func watch() {
        while true {
            usleep(10_000)
            leaseLock.lock()
            let lapsed = MonotonicClock.now() > leaseDeadline
            leaseLock.unlock()
            if lapsed { lapse(reason: "the lease lapsed") }
            faults.lock()
            let now = MonotonicClock.now()
            while let i = held.firstIndex(where: { $0.held.deadline < now }) {
                let h = held.remove(at: i)
                revert(-1, h)
                log("fault '\(h.name)' reverted by its TTL")
            }
            for h in held { FaultEffects.effect(for: h.held.work)?.tickAny(h.held.work, h.held.injection) }
            faults.unlock()
        }
    }

    /// The runner marks its run in `<state>/runs/<run>` with its pid (for `faultline halt`); a
    /// runner killed outright cannot remove it, so its agent does, once it has been orphaned
    /// (its parent is no longer the pid the marker names).
    private func removeRunMarkerIfOrphaned() {
        let runs = "\(stateDirectory)/runs"
        let marker = "\(runs)/\(runId)"
        guard let text = ProcFS.read(marker), let pid = Int32(text.split(separator: "\n").first ?? ""), pid != getppid() else { return }
        unlink(marker)
        rmdir(runs)
    }

    /// Reverts everything still held and exits: 0 when clean, 4 when residue remains.
    private func lapse(reason: String?) -> Never {
        faults.lock()
        if let reason, !held.isEmpty { log("\(reason); reverting \(held.count) fault(s)") }
        var residue: [String] = []
        while let h = held.popLast() { residue += revert(-1, h).residue ?? [] }
        if let ledger {
            residue += ledger.pending.map { "ledger entry '\($0.fault)' still pending" }
            ledger.closeIfClean()
        }
        for r in residue { log("residue: \(r)") }
        removeRunMarkerIfOrphaned()
        exit(residue.isEmpty ? 0 : ExitCode.residue)
    }

    private func respond(_ r: AgentResponse) {
        guard let data = try? JSONText.agent.encode(r) else { return }
        writeLock.lock()
        Output.write(STDOUT_FILENO, data + Data("\n".utf8))
        writeLock.unlock()
    }

    private func log(_ text: String) {
        Output.stderr("faultline agent (run \(runId)): \(text)\n")
    }
}
