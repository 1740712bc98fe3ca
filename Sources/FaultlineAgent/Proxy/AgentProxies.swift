import FaultlineEssentials
import FoundationEssentials

/// The fault proxies an agent runs for its run: one `ProxyServer` in the agent's process, so
/// the proxies and every toxic on them end when the agent does (a crash included).
enum AgentProxies {
    private static let state = Locked<ProxyServer?>(nil)

    /// This process's proxies, if it started any.
    static var server: ProxyServer? { state.value }

    /// Starts `decls` (a second call adds to the first); each one's line, or why one could not.
    static func start(_ decls: [ProxyDecl]) -> Result<[String], ProxyServer.APIError> {
        let server: ProxyServer
        if let s = state.value {
            server = s
        } else {
            do { server = try ProxyServer() } catch { return .failure(ProxyServer.APIError(500, "\(error)")) }
            state.mutate { $0 = server }
        }
        var lines: [String] = []
        for d in decls {
            do {
                let p = try server.create(name: d.name, listen: d.listen, upstream: d.upstream)
                lines.append("\(d.name): \(p["listen"]?.string ?? d.listen) → \(d.upstream)")
            } catch {
                return .failure(ProxyServer.APIError(error.status, "proxy '\(d.name)': \(error.message)"))
            }
        }
        return .success(lines)
    }
}
