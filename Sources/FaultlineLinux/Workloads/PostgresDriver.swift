import FaultlineCore
import Foundation

/// PostgreSQL: one `INSERT` of a unique value per write, wherever the connection string leads
/// (with `target_session_attrs=read-write`, to the primary); the table from every replica at
/// the end.
struct PostgresDriver: WorkloadDriver {
    let spec: PostgresWorkload
    let timeout: Int64

    init(_ spec: PostgresWorkload, timeout: Int64) {
        self.spec = spec
        self.timeout = timeout
    }

    final class Session: WorkloadSession {
        let connection: PostgresConnection
        let insert: String
        init(_ connection: PostgresConnection, table: String) {
            self.connection = connection
            insert = "INSERT INTO \(table) (v) VALUES ($1)"
        }

        func perform(_ op: inout History.Op) -> Bool {
            op.endpoint = connection.endpoint
            do throws(PostgresConnection.Failure) {
                try connection.query(insert, [op.value])
                op.outcome = .ok
                return true
            } catch {
                switch error {
                case .rejected: op.outcome = .fail
                case .indeterminate: op.outcome = .unknown
                }
                return false
            }
        }
    }

    func prepare() -> String? {
        do throws(PostgresConnection.Failure) {
            let c = try PostgresConnection(spec.connection, timeout: 10_000_000_000)
            try c.query("CREATE TABLE IF NOT EXISTS \(spec.table) (v text PRIMARY KEY)")
            return nil
        } catch {
            return "postgres workload: cannot create table '\(spec.table)' via '\(spec.connection)': \(error)"
        }
    }

    func connect(client: Int) -> (any WorkloadSession)? {
        (try? PostgresConnection(spec.connection, timeout: timeout)).map { Session($0, table: spec.table) }
    }

    func finalRead(into h: inout History) {
        var reads: [String: [String]] = [:]
        h.finalPrimary = nil
        for r in spec.replicas {
            guard let c = try? PostgresConnection(r, timeout: 5_000_000_000),
                let rows = try? c.query("SELECT v FROM \(spec.table)"),
                let recovery = try? c.query("SELECT pg_is_in_recovery()::text")
            else { continue }
            reads[r] = rows
            if recovery == ["false"], h.finalPrimary == nil { h.finalPrimary = r }
        }
        h.finalReads = reads
    }
}
