import Glibc

/// Reading a file someone else may have chosen, the one way every input surface does it: the
/// path's symbolic links followed (a Kubernetes ConfigMap volume is all links), the target
/// opened without blocking and checked to be a regular file on the descriptor itself (a FIFO or
/// a device swapped in after a check would block or never end), and at most `maxBytes` read.
///
/// This is the one place FaultlineCore makes system calls of its own: `open` with O_NONBLOCK
/// and `fstat` on the descriptor have no Foundation equivalent.
public enum InputFile {
    public enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        case unreadable(String)
        case notRegular
        case tooLarge(Int)
        /// A file others may not read, or a kernel pseudo-file: it may hold a secret, and an
        /// experiment must not be able to show one (see `private`).
        case privateFile(String)

        public var description: String {
            switch self {
            case .unreadable(let why): return "cannot read file: \(why)"
            case .notRegular: return "cannot read file: not a regular file"
            case .tooLarge(let max): return "file is larger than \(max >= 1 << 20 ? "\(max >> 20) MiB" : "\(max) bytes")"
            case .privateFile(let why): return why
            }
        }
    }

    /// The file's bytes. `named`: the path came from inside another file (an inventory or lab an
    /// experiment names), so it must also be one that everyone on the host may read and not a
    /// kernel pseudo-file: such a file is no secret, and nothing else is ever read or shown.
    public static func read(_ path: String, maxBytes: Int, named: Bool = false) -> Result<[UInt8], Problem> {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return .failure(.unreadable(String(cString: strerror(errno)).lowercased())) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .failure(.unreadable(String(cString: strerror(errno)).lowercased())) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return .failure(.notRegular) }
        if named, let why = privacy(fd: fd, mode: st.st_mode) { return .failure(.privateFile(why)) }
        guard Int(st.st_size) <= maxBytes else { return .failure(.tooLarge(maxBytes)) }
        var out = [UInt8](repeating: 0, count: min(Int(st.st_size), maxBytes) + 1)
        var n = 0
        while true {
            if n == out.count {
                // A file that grew since fstat: keep reading in steps, never past the bound.
                guard out.count <= maxBytes else { return .failure(.tooLarge(maxBytes)) }
                out += [UInt8](repeating: 0, count: min(out.count, maxBytes + 1 - out.count))
            }
            let r = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + n, $0.count - n) }
            if r < 0, errno == EINTR { continue }
            if r < 0 { return .failure(.unreadable(String(cString: strerror(errno)).lowercased())) }
            if r == 0 { break }
            n += r
        }
        guard n <= maxBytes else { return .failure(.tooLarge(maxBytes)) }
        return .success(Array(out.prefix(n)))
    }

    /// Why a named file may hold a secret, or nil: a file under /proc, /sys or /dev (the
    /// environment, memory, devices: `hosts: {from: /proc/self/environ}` would show the first),
    /// or one that others may not read (`/etc/shadow`, a key, a token: mode 0600 or 0640).
    static func privacy(fd: Int32, mode: mode_t) -> String? {
        var buf = [CChar](repeating: 0, count: 4_096)
        let n = readlink("/proc/self/fd/\(fd)", &buf, buf.count - 1)
        let real = n > 0 ? String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        if ["/proc/", "/sys/", "/dev/"].contains(where: { real.hasPrefix($0) }) {
            return
                "it is a kernel pseudo-file (\(real.split(separator: "/").first.map { "/\($0)" } ?? "")); faultline reads only ordinary files here"
        }
        if mode & S_IROTH == 0 {
            return
                "others may not read it (mode \(String(mode & 0o777, radix: 8))): faultline reads only a file that is no secret, so that an experiment cannot show one; make it readable (chmod o+r) if it is an inventory or lab"
        }
        return nil
    }

    /// The text of a file of at most `maxBytes`, decoded as UTF-8 (invalid bytes replaced).
    public static func text(_ path: String, maxBytes: Int, named: Bool = false) -> Result<String, Problem> {
        read(path, maxBytes: maxBytes, named: named).map { String(decoding: $0, as: UTF8.self) }
    }
}
