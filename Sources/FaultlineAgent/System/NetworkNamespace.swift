internal import CLinux
import FaultlineEssentials
import Glibc

/// Running code inside a network namespace from this process: the calling thread enters it
/// (setns), runs the body, and returns. Sockets opened meanwhile stay in that namespace, and
/// threads started meanwhile start there.
package enum NetworkNamespace {
    static let flag: Int32 = 0x4000_0000  // CLONE_NEWNET

    /// Runs `body` in the namespace at `path` (`/run/netns/NAME`).
    package static func run<T>(_ path: String, _ body: () throws -> T) throws -> T {
        let target = open(path, O_RDONLY | O_CLOEXEC)
        guard target >= 0 else { throw FaultError.system("open '\(path)': \(errnoText())") }
        defer { close(target) }
        let home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard home >= 0 else { throw FaultError.system("open own network namespace: \(errnoText())") }
        defer { close(home) }
        guard faultline_setns(target, flag) == 0 else { throw FaultError.system("setns '\(path)': \(errnoText())") }
        defer { _ = faultline_setns(home, flag) }
        return try body()
    }
}
