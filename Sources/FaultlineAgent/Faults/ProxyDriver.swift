import FaultlineEssentials
import FoundationEssentials
import Glibc

/// One `proxy` fault as its agent receives it: the proxy, the toxics with the names they get on
/// it (after the fault's index, so two faults never share one), or down.
public struct ProxyWork: FaultWork {
    public static let key = "proxy"
    public var host: String
    public var proxy: String
    public var toxics: [ProxyToxic]
    public var names: [String]
    public var down: Bool

    public init(host: String, proxy: String, toxics: [ProxyToxic], names: [String], down: Bool) {
        self.host = host
        self.proxy = proxy
        self.toxics = toxics
        self.names = names
        self.down = down
    }
}

/// Toxics on a fault proxy the agent runs (`proxies:`), removed at revert; or the proxy
/// disabled and enabled again. Confirmed by the proxy listing the toxics; a proxy taken down by
/// a connection to its address being refused.
public struct ProxyDriver: FaultEffect {
    public init() {}

    public func prepare(_ w: ProxyWork) throws(FaultError) -> Injection {
        guard let server = AgentProxies.server, let shown = try? server.show(w.proxy) else {
            throw FaultError.target("proxy '\(w.proxy)' is not running on '\(w.host)'")
        }
        if w.down, shown["enabled"] == .bool(false) { throw FaultError.refused("proxy '\(w.proxy)' is already down") }
        let summary =
            w.down
            ? "proxy \(w.proxy) (\(shown["listen"]?.string ?? "?")) disabled: connections refused, open ones closed"
            : "on proxy \(w.proxy) (\(shown["listen"]?.string ?? "?")): \(w.toxics.map(\.summary).joined(separator: "; "))"
        var injection = Injection(undo: [.proxyRestore(proxy: w.proxy, toxics: w.down ? [] : w.names, enable: w.down)], summary: summary)
        injection.baseline["since"] = Double(MonotonicClock.now())
        return injection
    }

    public func apply(_ w: ProxyWork, _ injection: Injection) throws(FaultError) {
        guard let server = AgentProxies.server else { throw FaultError.target("no proxies run here") }
        do {
            if w.down {
                _ = try server.update(w.proxy, enabled: false, listen: nil, upstream: nil)
                return
            }
            for (t, name) in zip(w.toxics, w.names) {
                let body = JSONValue.object([
                    ("name", .string(name)), ("type", .string(t.type)), ("stream", .string(t.stream)), ("toxicity", .number(t.toxicity)),
                    ("attributes", .object(t.attributes.sorted { $0.key < $1.key }.map { ($0.key, .number(Double($0.value))) })),
                ])
                _ = try server.addToxic(w.proxy, body)
            }
        } catch {
            throw FaultError.system("proxy '\(w.proxy)': \(error.message)")
        }
    }

    public func confirm(_ w: ProxyWork, _ injection: Injection, deadline: Int64) -> Confirmation {
        guard let server = AgentProxies.server, let shown = try? server.show(w.proxy) else {
            return Confirmation(ok: false, detail: "proxy '\(w.proxy)' is gone", at: nil)
        }
        let listen = shown["listen"]?.string ?? ""
        if w.down {
            // Measured: a connection to its address is refused.
            while true {
                let refused = !Self.connects(listen)
                let at = MonotonicClock.now()
                if refused { return Confirmation(ok: true, detail: "a connection to \(listen) is refused", at: at) }
                if at > deadline { return Confirmation(ok: false, detail: "\(listen) still accepts connections", at: nil) }
                usleep(1_000)
            }
        }
        let on = Set((shown["toxics"]?.array ?? []).compactMap { $0["name"]?.string })
        let missing = w.names.filter { !on.contains($0) }
        return missing.isEmpty
            ? Confirmation(
                ok: true, detail: "proxy \(w.proxy) on \(listen) holds \(w.names.joined(separator: ", "))", at: MonotonicClock.now())
            : Confirmation(ok: false, detail: "proxy \(w.proxy) lacks \(missing.joined(separator: ", "))", at: nil)
    }

    /// The proxy's own account at revert: how long data that went through its toxics was held
    /// during the fault (all its toxics together), and the connections it carried.
    public func measure(_ w: ProxyWork, _ injection: Injection) -> String? {
        guard let server = AgentProxies.server else { return nil }
        let c = server.loop.counts.value
        var line = "proxy \(w.proxy): \(c.accepted) connections since it started, \(c.open) open"
        guard !w.down else { return line }
        let since = Int64(injection.baseline["since"] ?? 0)
        let held = (server.loop.held.value[w.proxy] ?? []).filter { $0.at >= since }.map(\.held).sorted()
        if held.isEmpty {
            line += "; no data went through its toxics"
        } else {
            line +=
                "; \(held.count) writes through its toxics, held median \(DurationText.format(held[held.count / 2])) p99 \(DurationText.format(held[min(held.count - 1, held.count * 99 / 100)]))"
        }
        return line
    }

    static func connects(_ address: String) -> Bool {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            var target = TCPConnect.resolve(String(address[..<colon]), port)
        else { return false }
        return TCPConnect.connect(&target.0, target.1, family: target.2, timeout: 200_000_000).0
    }
}
