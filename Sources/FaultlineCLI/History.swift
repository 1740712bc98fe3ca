import ArgumentParser
import FaultlineCore
import FaultlineLinux
import Foundation

/// `faultline history DIR`: the runs under a reports folder, per experiment, and what the
/// newest run of each changed.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Verdicts and figures across the runs under a reports folder, flagging what the newest run of each experiment regressed.",
        discussion: """
            Reads DIR/*/journal.json (the folders 'faultline run --out DIR' writes), groups them by experiment and \
            compares each experiment's newest run with the runs before it: a check that newly fails, or a figure \
            beyond every earlier run's range by more than its bracket, is a regression; a check that is new, \
            resolved or gone is a change. Writes the same as a page (DIR/history.html unless --html says where).
            Exit codes: 0 no regression · 1 a regression in a newest run · 64 DIR cannot be read or holds no journal · \
            70 the page cannot be written.
            """)

    @Argument(help: "A reports folder (what --out names).")
    var dir: String

    @Option(help: "Where to write the page (default: DIR/history.html).")
    var html: String?

    func run() throws {
        let shown = ShownText.controlsEscaped(dir)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        } catch {
            Output.stderr("faultline history: cannot read \(shown): \(error.localizedDescription)\n")
            throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.badInput)
        }
        var journals: [Journal] = []
        var unreadable = 0
        for name in names where name != "latest" && !name.hasPrefix(".") {
            let path = "\(dir)/\(name)/journal.json"
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: "\(dir)/\(name)", isDirectory: &isDir), isDir.boolValue,
                FileManager.default.fileExists(atPath: path)
            else { continue }
            switch readJournal(path) {
            case .success(let j): journals.append(j)
            case .failure(let why):
                unreadable += 1
                Output.stderr("faultline history: \(ShownText.controlsEscaped(path)): \(why); left out\n")
            }
        }
        guard !journals.isEmpty else {
            Output.stderr("faultline history: no journal.json in the folders of \(shown)\(unreadable > 0 ? " that could be read" : "")\n")
            throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.badInput)
        }
        let trends = Trends(journals)
        for line in trends.text().split(separator: "\n", omittingEmptySubsequences: false).dropLast() { Output.line(String(line)) }
        if unreadable > 0 { Output.line("(\(unreadable) journal\(unreadable == 1 ? "" : "s") could not be read: named above)") }
        let page = html ?? "\(dir)/history.html"
        do {
            try trends.html().write(toFile: page, atomically: true, encoding: .utf8)
        } catch {
            Output.stderr("faultline history: cannot write \(ShownText.controlsEscaped(page)): \(error.localizedDescription)\n")
            throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.internalError)
        }
        Output.line("page: \(page)")
        if !trends.regressions.isEmpty { throw ArgumentParser.ExitCode(FaultlineCore.ExitCode.failed) }
    }
}
