import FaultlineCore
import Foundation

extension Runner {
    /// `command` run inside lab host `host`'s namespaces (network, PID, mount); nil when the
    /// host is not running.
    func inside(_ host: String, _ command: CommandSpec) -> CommandSpec? {
        entry(for: host).map { $0.command(command) }
    }

    /// Runs the role's command now and returns the first host it names: a host name, or the
    /// address of a lab host. The host must be one of `candidates` (the role's `among`, or its
    /// fault kind's hosts); a name outside them is refused, not skipped.
    func resolve(_ role: RoleTarget, candidates: [String]) -> Result<String, FaultError> {
        var command = role.resolve
        if let host = role.on {
            guard let entered = inside(host, role.resolve) else {
                return .failure(.target("cannot resolve role '\(role.role)' on '\(host)': not a running lab host"))
            }
            command = entered
        }
        let r = Spawner.run(command, timeout: 5_000_000_000)
        guard r.status == 0 else {
            return .failure(.target("'\(role.resolve)' failed: \(r.error ?? "exit \(r.status ?? -1)") \(r.output.prefix(200))"))
        }
        let byAddress = Dictionary(uniqueKeysWithValues: HostSet(experiment).addresses.map { ($1, $0) })
        let names = Set(experiment.hosts.map(\.name))
        let tokens = r.output.split(whereSeparator: { $0.isWhitespace || $0 == "," || $0 == ":" }).map(String.init)
        for t in tokens {
            guard let h = names.contains(t) ? t : byAddress[t] else { continue }
            guard candidates.contains(h) else {
                return .failure(
                    .target(
                        "'\(role.resolve)' named \(shown: h), which is not among the role's candidates (\(candidates.joined(separator: ", ")))"
                    ))
            }
            return .success(h)
        }
        return .failure(
            .target(
                "'\(role.resolve)' named no host of this experiment: '\(r.output.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200))'"
            ))
    }
}
