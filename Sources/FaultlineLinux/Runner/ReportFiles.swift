import FaultlineCore
import Foundation
import Glibc

/// A report rendered from a journal, as `--format` names it.
public enum ReportFormat: String, CaseIterable, Sendable {
    case html, md, junit, prom, annotations

    /// Its file in the run's folder.
    public var file: String {
        switch self {
        case .html: "report.html"
        case .md: "report.md"
        case .junit: "junit.xml"
        case .prom: "metrics.prom"
        case .annotations: "annotations.json"
        }
    }

    func render(_ j: Journal) throws -> Data {
        switch self {
        case .html: Data(HTMLWriter.render(j).utf8)
        case .md: Data(MarkdownWriter.render(j).utf8)
        case .junit: Data(JUnitWriter.render(j).utf8)
        case .prom: Data(MetricsWriter.render(j).utf8)
        case .annotations: try AnnotationsWriter.render(j)
        }
    }

    /// `md,junit` (or repeated options) as formats, each once in the order given (none given:
    /// all of them); the word that is not one when a name is unknown.
    public static func parse(_ lists: [String]) -> Result<[ReportFormat], ReportFormatError> {
        var out: [ReportFormat] = []
        for word in lists.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
            let name = word.trimmingCharacters(in: .whitespaces)
            guard let f = ReportFormat(rawValue: name) else { return .failure(ReportFormatError(word: String(word))) }
            if !out.contains(f) { out.append(f) }
        }
        return .success(out.isEmpty ? allCases : out)
    }
}

public struct ReportFormatError: Error, CustomStringConvertible {
    public let word: String
    public var description: String {
        "'\(ShownText.escaped(word, limit: 80))' is not a report format; valid: \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")) (journal.json is always written)"
    }
}

/// Writes a journal and the reports rendered from it into a folder.
public enum ReportFiles {
    /// Writes `journal.json` and the reports `formats` names into `root/<run-id>/` and points
    /// `root/latest` at it; returns the run's folder.
    /// `logs`, when it exists, is a folder of the lab's logs moved into the run's as `logs/`.
    public static func write(
        _ journal: Journal, root: String, formats: [ReportFormat] = ReportFormat.allCases, logs: String? = nil
    ) throws -> String {
        let dir = "\(root)/\(journal.runId)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        // The run's folder is new: mkdir fails on anything already there (a planted folder or
        // symbolic link would otherwise receive the journal).
        guard mkdir(dir, 0o755) == 0 else {
            throw ReportError(
                "create '\(dir)': \(errnoText())\(errno == EEXIST ? " (a run's folder is always new; something put it there)" : "")")
        }
        try put(journal.encoded(), "\(dir)/journal.json", durable: true)
        if let logs, FileManager.default.fileExists(atPath: logs), rename(logs, "\(dir)/logs") != 0 {
            throw ReportError("move the lab's logs from '\(logs)' into '\(dir)/logs': \(errnoText())")
        }
        try render(journal, into: dir, formats: formats)
        let latest = "\(root)/latest"
        let tmp = "\(root)/.latest.\(getpid())"
        unlink(tmp)
        guard symlink(journal.runId, tmp) == 0, rename(tmp, latest) == 0 else {
            let why = errnoText()
            unlink(tmp)
            throw ReportError("the reports are in '\(dir)', but '\(latest)' could not be pointed at them: \(why)")
        }
        return dir
    }

    /// Why reports could not be written under `root`, or nil: checked before a run starts, so
    /// that a run is never made (faults injected, a verdict reached) only to be lost. `root` is
    /// created if missing; it must be a directory this process can write, and `root/latest`,
    /// if there, a symbolic link (which each run replaces).
    public static func problem(root: String) -> String? {
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            return "cannot create '\(root)': \(error.localizedDescription)"
        }
        var st = stat()
        guard stat(root, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return "'\(root)' is not a directory" }
        let probe = "\(root)/.faultline-write-check.\(getpid())"
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return "cannot write in '\(root)': \(errnoText())" }
        close(fd)
        unlink(probe)
        var l = stat()
        if lstat("\(root)/latest", &l) == 0, (l.st_mode & S_IFMT) != S_IFLNK {
            return "'\(root)/latest' is not a symbolic link (a run points it at its reports): move it away"
        }
        return nil
    }

    struct ReportError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    /// Renders the reports `formats` names next to a journal; nothing else is touched.
    public static func render(_ journal: Journal, into dir: String, formats: [ReportFormat] = ReportFormat.allCases) throws {
        for f in formats { try put(f.render(journal), "\(dir)/\(f.file)", durable: false) }
    }

    /// In a GitHub Actions job (`GITHUB_STEP_SUMMARY` names a file), appends report.md to the
    /// job's summary page. Nil when done or not asked; else why not (a warning: the run's
    /// own files are written, and the verdict stands). The file is only ever appended to, and
    /// only when it is a regular file (or absent: then it is created, mode 0644).
    public static func appendStepSummary(_ journal: Journal, environment: [String: String]) -> String? {
        guard let path = environment["GITHUB_STEP_SUMMARY"], !path.isEmpty else { return nil }
        let shown = ShownText.escaped(path, limit: 200)
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0o644)
        guard fd >= 0 else { return "GITHUB_STEP_SUMMARY '\(shown)' cannot be opened: \(errnoText()); the job summary is left out" }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            return "GITHUB_STEP_SUMMARY '\(shown)' is not a regular file; the job summary is left out"
        }
        let text = Array((MarkdownWriter.render(journal) + "\n").utf8)
        var done = 0
        while done < text.count {
            let n = text.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, text.count - done) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                return "GITHUB_STEP_SUMMARY '\(shown)': write failed: \(errnoText()); the job summary is left out or incomplete"
            }
            done += n
        }
        return nil
    }

    /// Only the journal is flushed to disk before its rename (0.6 ms here): it is the record,
    /// and the other files can be rendered again from it (`faultline report`).
    static func put(_ data: Data, _ path: String, durable: Bool) throws {
        try AtomicFile.replace(path, with: data, mode: 0o644, flush: durable ? .contents : .none)
    }
}
