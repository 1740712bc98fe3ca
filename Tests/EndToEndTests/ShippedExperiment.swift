import FaultlineCore
import FaultlineTestSupport
import Foundation

/// Runs an experiment shipped in `experiments/` as a user would, with its ledgers, reports and
/// lab in a scratch folder the caller removes (under /var/tmp: a lab host may make /tmp
/// private, and its data directory must then lie outside it).
enum ShippedExperiment {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path

    /// Where a test keeps what Chromium drew of a report (kept after the run, for a person to
    /// look at: `.build/report-screenshots/NAME.png`).
    static func screenshot(_ name: String) -> String { "\(root)/.build/report-screenshots/\(name).png" }

    static func run(_ experiment: String) throws -> (FaultlineBinary.Output, Journal, String) {
        let dir = try temporaryDirectory(under: "/var/tmp")
        let out = try FaultlineBinary.run(
            [
                "run", "\(root)/experiments/\(experiment)", "--state-dir", "\(dir)/state", "--out", "\(dir)/reports", "--lab-dir",
                "\(dir)/labs",
            ],
            in: dir)
        do {
            let j = try Journal.decode(Data(contentsOf: URL(fileURLWithPath: "\(dir)/reports/latest/journal.json")))
            return (out, j, dir)
        } catch {
            try? FileManager.default.removeItem(atPath: dir)
            throw error
        }
    }
}
