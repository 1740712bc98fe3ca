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
        try journal.encoded().write(to: URL(fileURLWithPath: "\(dir)/journal.json"), options: .atomic)
        try render(journal, into: dir)
        let latest = "\(root)/latest"
        let tmp = "\(root)/.latest.\(getpid())"
        unlink(tmp)
        if symlink(journal.runId, tmp) == 0 { rename(tmp, latest) }
        return dir
    }

    /// Renders `report.md` and `junit.xml` next to a journal; nothing else is touched.
    public static func render(_ journal: Journal, into dir: String) throws {
        try Data(MarkdownWriter.render(journal).utf8).write(to: URL(fileURLWithPath: "\(dir)/report.md"), options: .atomic)
        try Data(JUnitWriter.render(journal).utf8).write(to: URL(fileURLWithPath: "\(dir)/junit.xml"), options: .atomic)
    }
}
