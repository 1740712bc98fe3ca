import FaultlineCore
import Foundation
import Glibc

/// Writes a journal and the reports rendered from it into a folder.
public enum ReportFiles {
    /// Writes `journal.json`, `report.md` and `junit.xml` into `root/<run-id>/` and points
    /// `root/latest` at it; returns the run's folder.
    public static func write(_ journal: Journal, root: String) throws -> String {
        let dir = "\(root)/\(journal.runId)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try put(journal.encoded(), "\(dir)/journal.json", durable: true)
        try render(journal, into: dir)
        let latest = "\(root)/latest"
        let tmp = "\(root)/.latest.\(getpid())"
        unlink(tmp)
        if symlink(journal.runId, tmp) == 0 { rename(tmp, latest) }
        return dir
    }

    /// Renders `report.md` and `junit.xml` next to a journal; nothing else is touched.
    public static func render(_ journal: Journal, into dir: String) throws {
        try put(Data(MarkdownWriter.render(journal).utf8), "\(dir)/report.md", durable: false)
        try put(Data(JUnitWriter.render(journal).utf8), "\(dir)/junit.xml", durable: false)
    }

    /// Replaces `path` atomically (a temporary file, then rename). Only the journal is flushed
    /// to disk before the rename (0.6 ms here): it is the record, and report.md and junit.xml
    /// can be rendered again from it (`faultline report`).
    static func put(_ data: Data, _ path: String, durable: Bool) throws {
        let tmp = "\(path).\(getpid()).tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ReportError("create '\(tmp)': \(String(cString: strerror(errno)))") }
        var done = 0
        let ok = data.withUnsafeBytes { buf in
            while done < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + done, buf.count - done)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { return false }
                done += n
            }
            return !durable || fsync(fd) == 0
        }
        let why = String(cString: strerror(errno))
        close(fd)
        guard ok else {
            unlink(tmp)
            throw ReportError("write '\(tmp)': \(why)")
        }
        guard rename(tmp, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(tmp)
            throw ReportError("rename '\(tmp)' to '\(path)': \(why)")
        }
    }
}

/// A report file that could not be written.
public struct ReportError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
