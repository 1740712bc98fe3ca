internal import CPostgres
import Foundation

/// One libpq connection (`PQconnectdb` … `PQfinish`). Queries use the asynchronous API and
/// poll(2) on the socket, so every call is bounded by `timeout` even when the server is cut off.
final class PostgresConnection {
    private let conn: OpaquePointer
    let timeout: Int64

    enum Failure: Error {
        /// The server answered with an error: the statement did not take effect.
        case rejected(String)
        /// The connection broke or timed out: the statement may or may not have taken effect.
        case indeterminate(String)
    }

    init(_ conninfo: String, timeout: Int64) throws(Failure) {
        guard fl_pq_lib() != nil else {
            throw .rejected("cannot load libpq.so.5 (apt install libpq5): \(String(cString: fl_pq_error()))")
        }
        // Connecting is bounded too: PQconnectdb would wait for the kernel's connect timeout
        // (minutes) on a cut-off host unless the connection string sets connect_timeout.
        guard let c = fl_PQconnectStart(conninfo) else { throw .rejected("PQconnectStart: out of memory") }
        let deadline = MonotonicClock.now() + timeout
        var status = PGRES_POLLING_WRITING
        while status != PGRES_POLLING_OK {
            if status == PGRES_POLLING_FAILED || fl_PQstatus(c) == CONNECTION_BAD {
                let message = Self.text(fl_PQerrorMessage(c))
                fl_PQfinish(c)
                throw .rejected(message)
            }
            let left = deadline - MonotonicClock.now()
            guard left > 0 else {
                fl_PQfinish(c)
                throw .rejected("no connection within \(timeout / 1_000_000) ms")
            }
            let events = status == PGRES_POLLING_READING ? POLLIN : POLLOUT
            var p = pollfd(fd: fl_PQsocket(c), events: Int16(events), revents: 0)
            if poll(&p, 1, Int32(max(1, left / 1_000_000))) < 0, errno != EINTR {
                fl_PQfinish(c)
                throw .rejected("poll: \(String(cString: strerror(errno)))")
            }
            status = fl_PQconnectPoll(c)
        }
        conn = c
        self.timeout = timeout
    }

    deinit { fl_PQfinish(conn) }

    /// `host:port` of the server this connection reached.
    var endpoint: String { "\(Self.text(fl_PQhost(conn))):\(Self.text(fl_PQport(conn)))" }

    /// Runs one statement with text parameters; returns the rows' first column.
    @discardableResult
    func query(_ sql: String, _ params: [String] = []) throws(Failure) -> [String] {
        let sent: Int32 = withCStrings(params) { ptrs in
            fl_PQsendQueryParams(conn, sql, Int32(params.count), nil, ptrs, nil, nil, 0)
        }
        guard sent == 1 else { throw .indeterminate(Self.text(fl_PQerrorMessage(conn))) }
        let deadline = MonotonicClock.now() + timeout
        var rows: [String] = []
        var failure: Failure?
        while true {
            while fl_PQisBusy(conn) == 1 {
                let left = deadline - MonotonicClock.now()
                guard left > 0 else { throw .indeterminate("no answer within \(timeout / 1_000_000) ms") }
                var p = pollfd(fd: fl_PQsocket(conn), events: Int16(POLLIN), revents: 0)
                let n = poll(&p, 1, Int32(max(1, left / 1_000_000)))
                if n < 0, errno != EINTR { throw .indeterminate("poll: \(String(cString: strerror(errno)))") }
                if n > 0, fl_PQconsumeInput(conn) == 0 { throw .indeterminate(Self.text(fl_PQerrorMessage(conn))) }
            }
            guard let result = fl_PQgetResult(conn) else { break }
            defer { fl_PQclear(result) }
            switch fl_PQresultStatus(result) {
            case PGRES_TUPLES_OK:
                for i in 0..<fl_PQntuples(result) { rows.append(Self.text(fl_PQgetvalue(result, i, 0))) }
            case PGRES_COMMAND_OK:
                break
            default:
                let message = Self.text(fl_PQresultErrorMessage(result))
                // A statement the server failed with a SQLSTATE did not commit; a broken
                // connection (no SQLSTATE) leaves the outcome open.
                let state = fl_PQresultErrorField(result, Int32(UInt8(ascii: "C")))
                failure = state == nil || fl_PQstatus(conn) != CONNECTION_OK ? .indeterminate(message) : .rejected(message)
            }
        }
        if let failure { throw failure }
        return rows
    }

    private static func text(_ p: UnsafePointer<CChar>?) -> String {
        p.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
    }
}

/// Calls `body` with the strings as a C array of NUL-terminated strings.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { for c in copies { free(c) } }
    let ptrs = copies.map { UnsafePointer($0) }
    return ptrs.withUnsafeBufferPointer { body($0.baseAddress) }
}
