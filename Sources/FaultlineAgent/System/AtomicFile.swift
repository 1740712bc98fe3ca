import FaultlineEssentials
import FoundationEssentials
import Glibc

/// Replaces a file in one step: the data goes to a temporary file beside it, which is then
/// renamed over it, so a reader sees the old file or the whole new one, never a part.
package enum AtomicFile {
    package enum Flush {
        /// Left to the kernel (a crash may lose the new file, never leave half of it).
        case none
        /// The data is on disk before the rename.
        case contents
        /// The data before the rename, and the directory entry after it: the new file survives
        /// a crash once this returns (ledgers, lab state).
        case contentsAndName
    }

    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    /// The temporary file is new (`O_EXCL`, a random name) and never a link followed
    /// (`O_NOFOLLOW`): a file or symbolic link planted under a guessable name cannot redirect
    /// the write, and rename replaces a link at `path` itself rather than writing through it.
    package static func replace(_ path: String, with data: Data, mode: mode_t, flush: Flush) throws(Failure) {
        var fd: Int32 = -1
        var tmp = ""
        for _ in 0..<8 {
            tmp = "\(path).\(String(UInt64.random(in: 0...UInt64.max), radix: 36)).tmp"
            fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw Failure(description: "create '\(tmp)': \(errnoText())") }
        var done = 0
        let ok = data.withUnsafeBytes { buf in
            while done < buf.count {
                let n = write(fd, buf.baseAddress! + done, buf.count - done)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { return false }
                done += n
            }
            return flush == .none || fsync(fd) == 0
        }
        let why = errnoText()
        close(fd)
        guard ok else {
            unlink(tmp)
            throw Failure(description: "write '\(tmp)': \(why)")
        }
        guard rename(tmp, path) == 0 else {
            let why = errnoText()
            unlink(tmp)
            throw Failure(description: "rename '\(tmp)' to '\(path)': \(why)")
        }
        guard flush == .contentsAndName else { return }
        let dir = open(PathText.parent(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }
}
