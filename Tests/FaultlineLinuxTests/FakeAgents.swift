import FaultlineCore
import Foundation
import Glibc

@testable import FaultlineAgent
@testable import FaultlineLinux

/// Agents that live in memory: they answer the protocol as a real agent does, record what they
/// were asked, and can be told to leave a fault unconfirmed or to fall silent.
final class FakeAgents: AgentTransport, @unchecked Sendable {
    struct Call: Equatable {
        var host: String
        var op: String
        var fault: String?
        var work: AnyFaultWork?
    }

    private let lock = NSLock()
    private var log: [Call] = []
    private var silentHosts: Set<String> = []
    private var recoveries: [String] = []
    /// Faults whose effect never shows (inject answers `confirmed: false`).
    var unconfirmed: Set<String> = []
    /// Called on the agent's thread when a fault is injected (after it is recorded).
    var onInject: @Sendable (String, AnyFaultWork) -> Void = { _, _ in }
    /// Hosts whose agent stops answering anything once it has injected a fault.
    var silentAfterInject: Set<String> = []
    /// What `capability` answers, by name: "yes: …" or "no: …" (names not listed: "yes: fake").
    var capabilities: [String: String] = ["netem": "no: sch_netem is not in this kernel (fake)"]
    /// Agents on "another machine": their clock runs this far ahead of the runner's, and their
    /// channels say they do not share its clock.
    var clockOffset: Int64 = 0

    var calls: [Call] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }

    func calls(_ op: String) -> [Call] { calls.filter { $0.op == op } }

    var recovered: [String] {
        lock.lock()
        defer { lock.unlock() }
        return recoveries
    }

    func open(_ host: HostSpec, entry: HostEntry, runId: String) throws(AgentError) -> any AgentChannel {
        let name = host.name
        return InMemoryAgentChannel(sharesClock: clockOffset == 0) { [self] line in answer(name, line) }
    }

    func recover(_ host: HostSpec, entry: HostEntry, runId: String) -> (ok: Bool, lines: [String]) {
        lock.lock()
        recoveries.append(host.name)
        lock.unlock()
        return (true, ["run \(runId): ledger clean, removed"])
    }

    private func record(_ c: Call) {
        lock.lock()
        log.append(c)
        lock.unlock()
    }

    private var now: Int64 { MonotonicClock.now() + clockOffset }

    /// One request line in, the response lines out.
    func answer(_ host: String, _ line: [UInt8]) -> [[UInt8]] {
        lock.lock()
        let silent = silentHosts.contains(host)
        lock.unlock()
        guard !silent else { return [] }
        if let ids = AgentRequest.goIds(line) {
            record(Call(host: host, op: "go"))
            return ids.flatMap { id -> [[UInt8]] in
                lock.lock()
                let request = armed.removeValue(forKey: "\(host)/\(id)")
                lock.unlock()
                return request.map { respond(host, $0) } ?? []
            }
        }
        guard let request = try? Journal.decoder().decode(AgentRequest.self, from: Data(line)) else { return [] }
        if request.armed == true {
            record(Call(host: host, op: "armed"))
            lock.lock()
            armed["\(host)/\(request.id)"] = request
            lock.unlock()
            return []
        }
        return respond(host, request)
    }

    private var armed: [String: AgentRequest] = [:]

    private func respond(_ host: String, _ request: AgentRequest) -> [[UInt8]] {
        var r = AgentResponse(id: request.id, ok: true)
        switch request.op {
        case .hello:
            r.pid = 4242
            r.now = now
        case .lease:
            r.id = 0
            r.now = now
        case .inject(let name, let work, _, _):
            record(Call(host: host, op: "inject", fault: name, work: work))
            onInject(name, work)
            r.injectedAt = now
            r.detail = "fake \(work.key) on \(host)"
            if unconfirmed.contains(name) {
                r.confirmed = false
                r.error = "not confirmed (fake)"
            } else {
                r.confirmed = true
                r.confirmedAt = now + 1_000_000
            }
            if silentAfterInject.contains(host) {
                lock.lock()
                silentHosts.insert(host)
                lock.unlock()
            }
        case .revert(let name):
            record(Call(host: host, op: "revert", fault: name))
            r.revertedAt = now
            r.detail = "undone (fake)"
        case .reach(let addresses):
            record(Call(host: host, op: "reach"))
            r.detail = addresses.joined(separator: ",")
        case .find:
            r.detail = ""
        case .proxies(let decls):
            record(Call(host: host, op: "proxies", fault: decls.map(\.name).joined(separator: ",")))
            r.detail = decls.map { "\($0.name): \($0.listen) → \($0.upstream)" }.joined(separator: "\n")
        case .capability(let name):
            record(Call(host: host, op: "capability", fault: name))
            r.detail = capabilities[name] ?? "yes: fake"
        case .snapshot, .residue, .revertAll:
            record(Call(host: host, op: "\(request.op)".components(separatedBy: "(")[0]))
            r.residue = []
        case .bye:
            record(Call(host: host, op: "bye"))
            return []
        }
        guard let data = try? JSONText.agent.encode(r) else { return [] }
        return [Array(data)]
    }
}

/// A lab that is "up" without namespaces: its hosts' inits are this test process.
struct FakeLab: LabControl {
    func acquire(_ lab: LabSpec, log: @escaping (String) -> Void) throws(LabError) -> (state: LabState, owned: Bool) {
        let me = ProcessRef(pid: getpid(), startTime: ProcFS.stat(getpid())?.startTime ?? 0, name: "test")
        var state = LabState(lab: lab.name, source: lab.source, subnet: lab.subnet.description, dataDir: "/nonexistent", createdAt: "")
        state.hosts = lab.hosts.map {
            LabState.Host(name: $0.name, address: $0.address.description, namespace: "-", veth: "-", initProcess: me)
        }
        return (state, false)
    }

    func release(_ lab: String, log: @escaping (String) -> Void) -> [String] { [] }

    func entry(_ state: LabState, host: String) -> HostEntry? { .namespaces(initPid: getpid()) }
}

/// Collects a run's events.
final class EventLog: RunObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var events: [RunEvent] = []
    var wantsProgress: Bool { false }

    func observe(_ event: RunEvent) {
        lock.lock()
        events.append(event)
        lock.unlock()
    }

    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return events.compactMap { $0.text.map { "\($0.0)\($0.1.map { ": \($0)" } ?? "")" } }
    }
}
