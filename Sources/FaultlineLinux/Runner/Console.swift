import Foundation
import Glibc

/// Terminal output: live progress on a TTY, plain lines otherwise; `NO_COLOR` honoured.
public final class Console: @unchecked Sendable {
    public let isTTY: Bool
    public let color: Bool
    public var quiet = false
    private let lock = NSLock()
    private var progressShown = false

    public init() {
        isTTY = isatty(STDOUT_FILENO) == 1
        let noColor = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        color = isTTY && !noColor && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    /// Prints a line (clearing any progress line first).
    public func line(_ text: String) {
        guard !quiet else { return }
        lock.lock()
        defer { lock.unlock() }
        if progressShown { Output.stdout("\r\u{1B}[K") }
        progressShown = false
        Output.stdout(text + "\n")
    }

    /// Rewrites the live progress line; does nothing when stdout is not a terminal.
    public func progress(_ text: String) {
        guard isTTY, !quiet else { return }
        lock.lock()
        defer { lock.unlock() }
        progressShown = true
        Output.stdout("\r\u{1B}[K\(text)")
    }

    public func error(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        if progressShown { Output.stdout("\r\u{1B}[K") }
        progressShown = false
        Output.stderr(text + "\n")
    }

    /// Wraps text in an ANSI colour when colour is on: `green`, `red`, `yellow`, `bold`.
    public func style(_ text: String, _ name: String) -> String {
        guard color else { return text }
        let code = ["green": "32", "red": "31", "yellow": "33", "bold": "1"][name] ?? "0"
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }
}
