import FaultlineCore
import Foundation

/// A command per operation: exit 0 is acknowledged, another exit status failed, a timeout (or
/// a command that could not start after it may have acted) unknown.
struct CommandDriver: WorkloadDriver {
    let spec: CommandWorkload
    let timeout: Int64

    final class Session: WorkloadSession {
        let driver: CommandDriver
        init(_ driver: CommandDriver) { self.driver = driver }

        func perform(_ op: inout History.Op) -> Bool {
            let value = op.value
            let command: CommandSpec
            switch driver.spec.write {
            case .argv(let a): command = .argv(a.map { $0.replacingOccurrences(of: "{value}", with: value) })
            case .shell(let s): command = .shell(s.replacingOccurrences(of: "{value}", with: value))
            }
            let r = Spawner.run(command, timeout: driver.timeout)
            op.endpoint = "command"
            if r.timedOut {
                op.outcome = .unknown
            } else if r.status == nil {
                op.outcome = .fail
            } else {
                op.outcome = r.status == 0 ? .ok : .fail
            }
            return true
        }
    }

    func connect(client: Int) -> (any WorkloadSession)? { Session(self) }

    func finalRead(into h: inout History) {
        var reads: [String: [String]] = [:]
        for replica in spec.replicas {
            // A replica may hold millions of values: read all of it (up to 1 GiB).
            let r = Spawner.run(replica.read, timeout: 30_000_000_000, outputLimit: 1 << 30)
            guard r.status == 0 else { continue }
            reads[replica.name] = r.output.split(separator: "\n").map(String.init)
        }
        h.finalReads = reads
        h.finalPrimary = spec.replicas.first.flatMap { reads[$0.name] != nil ? $0.name : nil }
    }
}
