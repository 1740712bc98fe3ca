import FaultlineLinux
import Foundation
import Glibc

/// Terminal output: live progress on a TTY, plain lines otherwise; `NO_COLOR` honoured.
final class Console: @unchecked Sendable {
    let isTTY: Bool
    let color: Bool
    var quiet = false
    private let lock = NSLock()
    private var progressShown = false

    init() {
        isTTY = isatty(STDOUT_FILENO) == 1
        let noColor = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        color = isTTY && !noColor && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    /// Prints a line (clearing any progress line first).
    func line(_ text: String) {
        guard !quiet else { return }
        lock.lock()
        defer { lock.unlock() }
        if progressShown { Output.stdout("\r\u{1B}[K") }
        progressShown = false
        Output.stdout(text + "\n")
    }

    /// Rewrites the live progress line; does nothing when stdout is not a terminal.
    func progress(_ text: String) {
        guard isTTY, !quiet else { return }
        lock.lock()
        defer { lock.unlock() }
        progressShown = true
        Output.stdout("\r\u{1B}[K\(text)")
    }

    func error(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        if progressShown { Output.stdout("\r\u{1B}[K") }
        progressShown = false
        Output.stderr(text + "\n")
    }

    /// Wraps text in an ANSI colour when colour is on: `green`, `red`, `yellow`, `bold`.
    func style(_ text: String, _ name: String) -> String {
        guard color else { return text }
        let code = ["green": "32", "red": "31", "yellow": "33", "bold": "1"][name] ?? "0"
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }
}
