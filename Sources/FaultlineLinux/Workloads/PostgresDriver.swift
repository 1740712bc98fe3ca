import FaultlineCore
import Foundation

/// PostgreSQL: one `INSERT` of a unique value per write, wherever the connection string leads
/// (with `target_session_attrs=read-write`, to the primary); the table from every replica at
/// the end. In register mode, upserts and reads of a few keys, reads optionally elsewhere
/// (a standby).
struct PostgresDriver: WorkloadDriver {
    let spec: PostgresWorkload
    let timeout: Int64

    final class Session: WorkloadSession {
        let connection: PostgresConnection
        /// Where reads go: a second connection (e.g. to a standby), or the same one.
        let reads: PostgresConnection?
        let insert: String
        let select: String

        init(_ connection: PostgresConnection, reads: PostgresConnection?, spec: PostgresWorkload) {
            self.connection = connection
            self.reads = reads
            if spec.registers == nil {
                insert = "INSERT INTO \(spec.table) (v) VALUES ($1)"
            } else {
                insert = "INSERT INTO \(spec.table) (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"
            }
            select = "SELECT v FROM \(spec.table) WHERE k = $1"
        }

        func perform(_ op: inout History.Op) -> Bool {
            let c = op.kind == .read ? reads ?? connection : connection
            op.endpoint = c.endpoint
            do throws(PostgresConnection.Failure) {
                if op.kind == .read {
                    op.value = try c.query(select, [op.key]).first ?? ""
                } else {
                    try c.query(insert, op.key.isEmpty ? [op.value] : [op.key, op.value])
                }
                op.outcome = .ok
                return true
            } catch {
                switch error {
                case .rejected: op.outcome = .fail
                case .indeterminate: op.outcome = op.kind == .read ? .fail : .unknown
                }
                return false
            }
        }
    }

    func operation(client: Int, n: Int, random: inout SplitMix) -> (History.Kind, key: String, value: String) {
        guard let keys = spec.registers else { return (.write, "", "c\(client)-\(n)") }
        return registerOperation(client: client, n: n, random: &random, prefix: "k", keys: keys, readShare: spec.readShare)
    }

    func prepare() -> String? {
        do throws(PostgresConnection.Failure) {
            let c = try PostgresConnection(spec.connection, timeout: 10_000_000_000)
            let columns = spec.registers == nil ? "v text PRIMARY KEY" : "k text PRIMARY KEY, v text NOT NULL"
            try c.query("CREATE TABLE IF NOT EXISTS \(spec.table) (\(columns))")
            return nil
        } catch {
            return "postgres workload: cannot create table '\(spec.table)' via '\(spec.connection)': \(error)"
        }
    }

    func connect(client: Int) -> (any WorkloadSession)? {
        guard let c = try? PostgresConnection(spec.connection, timeout: timeout) else { return nil }
        var reads: PostgresConnection?
        if let r = spec.readConnection {
            guard let rc = try? PostgresConnection(r, timeout: timeout) else { return nil }
            reads = rc
        }
        return Session(c, reads: reads, spec: spec)
    }

    func finalRead(into h: inout History) {
        var reads: [String: [String]] = [:]
        h.finalPrimary = nil
        for r in spec.replicas {
            guard let c = try? PostgresConnection(r, timeout: 5_000_000_000),
                let rows = try? c.query(spec.registers == nil ? "SELECT v FROM \(spec.table)" : "SELECT k || '=' || v FROM \(spec.table)"),
                let recovery = try? c.query("SELECT pg_is_in_recovery()::text")
            else { continue }
            reads[r] = rows
            if recovery == ["false"], h.finalPrimary == nil { h.finalPrimary = r }
        }
        h.finalReads = reads
    }
}
