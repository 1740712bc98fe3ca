import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

@testable import FaultlineAgent
@testable import FaultlineLinux

/// A server that completes TCP handshakes (the kernel does, from the listen backlog) and then
/// never says a word: what a frozen or cut-off PostgreSQL looks like to a client.
@Suite("postgres connection bounds")
struct PostgresConnectionTests {
    func silentListener() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        a.sin_port = 0
        let bound = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw TestFailure("bind/listen: \(errno)") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return (fd, Int(UInt16(bigEndian: a.sin_port)))
    }

    @Test(
        "connecting to a server that never answers gives up at the timeout, not the kernel's",
        .enabled(if: FileManager.default.fileExists(atPath: "/usr/lib/x86_64-linux-gnu/libpq.so.5"), "needs libpq5"))
    func connectTimeout() throws {
        let (fd, port) = try silentListener()
        defer { close(fd) }
        let start = MonotonicClock.now()
        #expect(throws: PostgresConnection.Failure.self) {
            _ = try PostgresConnection("host=127.0.0.1 port=\(port) user=postgres dbname=postgres", timeout: 300_000_000)
        }
        let took = MonotonicClock.now() - start
        #expect(took >= 290_000_000 && took < 1_500_000_000, "\(took)")
    }
}
