import FaultlineEssentials
import FoundationEssentials
import Glibc

/// Writes to stdout/stderr with `write(2)`.
///
/// Foundation's `FileHandle.write(_:)` traps on EPIPE. An agent answering a runner that has
/// just died, or a runner whose output goes to `head`, must not crash — least of all while it
/// holds faults — so output that cannot be delivered is dropped instead.
public enum Output {
    public static func stdout(_ text: String) { write(STDOUT_FILENO, Data(text.utf8)) }
    public static func stderr(_ text: String) { write(STDERR_FILENO, Data(text.utf8)) }

    /// One line on stdout whose text may come from a file or another program (a lab's, a
    /// ledger's, a proxy config's names): its control and format characters are escaped, so it
    /// stays one line and shows what it holds.
    public static func line(_ text: String) { stdout(ShownText.controlsEscaped(text) + "\n") }

    /// Writes all of `data`, retrying on EINTR; returns false when the reader is gone.
    @discardableResult
    public static func write(_ fd: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    return false
                }
                offset += n
            }
            return true
        }
    }
}
