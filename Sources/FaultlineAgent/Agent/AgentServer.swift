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
                // The faults of one instant on this host: one of their threads does the part
                // that must land at the instant for all of them (`InstantGroup`).
                let members = ids.compactMap { id -> Armed? in
                    if let a = armed.removeValue(forKey: id) { return a }
                    respond(AgentResponse(id: id, ok: false, error: "agent: go for request \(id), which was not armed"))
                    return nil
                }
                let group = InstantGroup(instant: MonotonicClock.now(), members: members.map(\.request))
                for a in members { a.fire(group) }
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

    /// An armed request: its thread, started when it was armed, waits for the go line.
    final class Armed: @unchecked Sendable {
        let request: AgentRequest
        private let go = DispatchSemaphore(value: 0)
        private var group: InstantGroup?

        init(_ request: AgentRequest) { self.request = request }

        /// Lets the request run with the others of its go line.
        func fire(_ group: InstantGroup) {
            self.group = group
            go.signal()
        }

        func wait() -> InstantGroup {
            go.wait()
            return group ?? InstantGroup(instant: MonotonicClock.now(), members: [request])
        }
    }

    /// The armed requests of one go line. The part of their injects that must land at the
    /// instant — finding the targets in one scan of /proc, recording every entry in one ledger
    /// write, applying each — is done by one thread, the first of theirs to wake, in order:
    /// 32 threads doing it side by side spent their time waking each other at every lock
    /// (about 50 µs a hand-over). Each thread then confirms its own fault.
    final class InstantGroup: @unchecked Sendable {
        let instant: Int64
        let members: [AgentRequest]
        private let condition = Condition()
        private var led = false
        private var results: [Int: Injected]?

        init(instant: Int64, members: [AgentRequest]) {
            self.instant = instant
            self.members = members
        }

        /// `id`'s result: the first caller runs `lead` for every inject of the group (the
        /// others wait for it), and each takes its own.
        func result(for id: Int, lead: ([InjectItem]) -> [Injected]) -> Injected? {
            condition.lock()
            if !led {
                led = true
                condition.unlock()
                let items = members.compactMap(InjectItem.init)
                let out = lead(items)
                condition.lock()
                results = Dictionary(zip(items.map(\.id), out), uniquingKeysWith: { a, _ in a })
                condition.broadcast()
            }
            while results == nil { _ = condition.wait(until: MonotonicClock.now() + 1_000_000_000) }
            defer { condition.unlock() }
            return results?[id]
        }
    }

    /// An inject's request, as the instant's shared part reads it.
    struct InjectItem {
        var id: Int
        var name: String
        var work: AnyFaultWork
        var ttl: Int64
        var confirmTimeout: Int64
    }

    /// An inject after its instant: the response so far, and what is left to confirm (nil when
    /// it failed).
    struct Injected {
        var response: AgentResponse
        var confirming: (effect: any FaultEffect, injection: Injection)?
    }

    /// Starts an armed request's thread: it readies the request (`warm`), then waits for its
    /// go, so that at the instant nothing is left to start — the go line only wakes it.
    func arm(_ request: AgentRequest) -> Armed {
        let a = Armed(request)
        let t = PThread {
            self.warm(request)
            // Realtime while it waits and fires (below the delay line's priority): woken by the
            // go line at once, not at the scheduler's next tick behind the host's other work.
            _ = promoteToRealtime(priority: 5)
            let group = a.wait()
            guard let item = InjectItem(request) else {
                demoteFromRealtime()
                self.respond(self.handle(request))
                return
            }
            let injected = group.result(for: item.id) { items in
                ProcessTable.$instant.withValue(group.instant) { self.injectTogether(items) }
            }
            // The instant is past: confirming (probes, polls, up to seconds) runs on the normal
            // scheduler. Left realtime, 32 confirms starve the host's ordinary threads — on a
            // lab host the runner's own lease renewals — for as long as the kernel's realtime
            // throttling allows (950 ms of every second).
            demoteFromRealtime()
            guard let injected else {
                self.respond(AgentResponse(id: item.id, ok: false, error: "agent: request \(item.id) lost in its instant"))
                return
            }
            self.respond(self.confirm(item, injected))
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
        guard case .inject(let name, let work, _, _) = request.op, let driver = FaultEffects.effect(for: work) else { return }
        faults.lock()
        if ledger == nil { ledger = try? Ledger(directory: stateDirectory, runId: runId) }
        let ledger = self.ledger
        faults.unlock()
        // Its entry encoded for nothing too, and a response like its own: the first encoding of
        // a type in a fresh agent is slow (`Ledger.warm`), and 32 lab agents doing theirs at
        // the first instant made it the run's latest (a median of 19 ms against 7 after it).
        guard let injection = try? driver.prepareAny(work) else { return }
        ledger?.warm(fault: name, host: work.host, summary: injection.summary, undo: injection.undo)
        var r = AgentResponse(id: request.id, ok: true)
        r.injectedAt = 0
        r.detail = injection.summary
        r.confirmed = true
        r.confirmedAt = 0
        r.confirmation = ""
        _ = try? JSONText.agent.encode(r)
    }

    /// A TCP connect to port 9 that gets no answer (accepted or refused) this soon is cut.
    static let reachTimeout: Int64 = 150_000_000

    /// One inject on its own: the instant's part for it alone, then its confirmation.
    func inject(_ id: Int, name: String, work: AnyFaultWork, ttl: Int64, confirmTimeout: Int64) -> AgentResponse {
        let item = InjectItem(id: id, name: name, work: work, ttl: ttl, confirmTimeout: confirmTimeout)
        return confirm(item, injectTogether([item])[0])
    }

    /// The part of the injects of one instant that must land at it, in three passes: each
    /// prepared (its targets found, nothing changed; outside the `faults` lock, so no
    /// selection holds up a TTL revert or a lapse), each recorded in the ledger with one write
    /// for all, then each held and applied under one hold of the lock (a lapse or a TTL revert
    /// never meets a half-applied fault). A fault that fails a pass fails alone.
    func injectTogether(_ items: [InjectItem]) -> [Injected] {
        var out = items.map { Injected(response: AgentResponse(id: $0.id, ok: false)) }
        var prepared: [(index: Int, effect: any FaultEffect, injection: Injection)] = []
        for (i, item) in items.enumerated() {
            do {
                guard let effect = FaultEffects.effect(for: item.work) else {
                    throw FaultError.refused("no driver for '\(item.work.key)' work")
                }
                prepared.append((i, effect, try effect.prepareAny(item.work)))
            } catch {
                out[i].response.error = "\(error)"
            }
        }
        var recorded: [(index: Int, effect: any FaultEffect, injection: Injection, ledgerId: Int)] = []
        do {
            let ledger = try openLedger()
            var generation = 0
            for p in prepared {
                do {
                    let (ledgerId, g) = try ledger.stage(
                        fault: items[p.index].name, host: items[p.index].work.host, summary: p.injection.summary, undo: p.injection.undo)
                    recorded.append((p.index, p.effect, p.injection, ledgerId))
                    generation = max(generation, g)
                } catch {
                    out[p.index].response.error = "\(error)"
                }
            }
            if !recorded.isEmpty { try ledger.commit(generation) }
        } catch {
            for p in prepared where out[p.index].response.error == nil { out[p.index].response.error = "\(error)" }
            return out
        }
        faults.lock()
        defer { faults.unlock() }
        for f in recorded {
            let item = items[f.index]
            // What has nothing to undo (a kill) is not held: no TTL, no revert, the ledger
            // keeps it for the audit trail.
            if !f.injection.undo.isEmpty {
                held.append(
                    (
                        item.name,
                        Held(work: item.work, injection: f.injection, ledgerId: f.ledgerId, deadline: MonotonicClock.now() + item.ttl)
                    ))
            }
            out[f.index].response.injectedAt = MonotonicClock.now()
            do {
                try f.effect.applyAny(item.work, f.injection)
                out[f.index].response.detail = f.injection.summary
                out[f.index].confirming = (f.effect, f.injection)
            } catch {
                out[f.index].response.error = "\(error)"
            }
        }
        return out
    }

    /// Confirms an injected fault (probes, polls: up to its timeout), outside the `faults` lock.
    func confirm(_ item: InjectItem, _ injected: Injected) -> AgentResponse {
        var r = injected.response
        guard let (effect, injection) = injected.confirming else { return r }
        let c = effect.confirmAny(item.work, injection, deadline: MonotonicClock.now() + item.confirmTimeout)
        r.ok = true
        r.confirmed = c.ok
        r.confirmedAt = c.at
        r.confirmation = c.detail
        if !c.ok { r.error = c.detail }
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

extension AgentServer.InjectItem {
    /// The inject a request asks for; nil for any other request.
    init?(_ request: AgentRequest) {
        guard case .inject(let name, let work, let ttl, let confirmTimeout) = request.op else { return nil }
        self.init(id: request.id, name: name, work: work, ttl: ttl, confirmTimeout: confirmTimeout)
    }
}
