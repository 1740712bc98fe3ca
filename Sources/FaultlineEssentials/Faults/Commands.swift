/// Picks processes on a host.
public enum ProcessSelector: Codable, Equatable, Sendable, CustomStringConvertible {
    /// Exact process name (`comm`, or the basename of argv[0]).
    case name(String)
    case pid(Int32)
    case pidFile(String)
    /// A regular expression searched in the NUL-joined-by-space command line.
    case cmdline(String)
    /// The process listening on this TCP port.
    case port(Int)

    public var description: String {
        switch self {
        case .name(let n): return "name \(shown: n)"
        case .pid(let p): return "pid \(p)"
        case .pidFile(let f): return "pid file \(shown: f)"
        case .cmdline(let r): return "cmdline /\(ShownText.escaped(r))/"
        case .port(let p): return "tcp port \(p)"
        }
    }
}

/// How many of the matching processes a fault takes.
public enum Multiplicity: Codable, Equatable, Sendable {
    /// Exactly one must match.
    case one
    /// The first N (oldest first); fewer matches is an error.
    case count(Int)
    case all
}

/// A command: argv run directly, or a script given to `/bin/sh -c` when the key says `shell:`.
public enum CommandSpec: Codable, Equatable, Sendable, CustomStringConvertible {
    case argv([String])
    case shell(String)

    /// As a POSIX shell would read it back: arguments that need it single-quoted.
    public var description: String {
        switch self {
        case .argv(let a): return a.map(Self.quoted).joined(separator: " ")
        case .shell(let s): return "sh -c \(Self.quoted(s))"
        }
    }

    /// `s` as one shell word: unchanged when it is plain, else in single quotes (a quote inside
    /// written `'\''`).
    package static func quoted(_ s: String) -> String {
        let plain = !s.isEmpty && s.utf8.allSatisfy { c in ASCII.letter(c) || ASCII.digit(c) || "-_./:=@%+,".utf8.contains(c) }
        return plain ? s : "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}
