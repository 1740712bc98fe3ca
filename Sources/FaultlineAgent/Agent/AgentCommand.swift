import FaultlineEssentials

/// The command line of the agent product (`faultline-agent`), the program copied to SSH hosts:
/// the two commands a runner starts there, with the same words as `faultline agent` and
/// `faultline recover` (`SelfCommand` builds both), and nothing else.
public enum AgentCommand {
    public static let usage = """
        usage: faultline-agent agent --run ID --state-dir DIR [--own-pid-namespace]
               faultline-agent recover (--run ID | --all) --state-dir DIR [--force]
               faultline-agent --version
        """

    /// What the words ask for, or why they cannot be run.
    public enum Parsed: Equatable {
        case agent(runId: String, stateDirectory: String, ownPIDNamespace: Bool)
        case recover(runId: String?, stateDirectory: String, force: Bool)
        case version
    }

    public static func parse(_ words: [String]) -> Result<Parsed, Problem> {
        guard let command = words.first else { return .failure(Problem("no command")) }
        if command == "--version" { return words.count == 1 ? .success(.version) : .failure(Problem("--version takes nothing more")) }
        var values: [String: String] = [:]
        var flags: Set<String> = []
        let valued: Set<String>
        let flagged: Set<String>
        switch command {
        case "agent": (valued, flagged) = (["--run", "--state-dir"], ["--own-pid-namespace"])
        case "recover": (valued, flagged) = (["--run", "--state-dir"], ["--all", "--force"])
        default: return .failure(Problem("unknown command \(shown: command) (valid: agent, recover, --version)"))
        }
        var rest = words.dropFirst()[...]
        while let word = rest.popFirst() {
            if flagged.contains(word) {
                guard flags.insert(word).inserted else { return .failure(Problem("\(word) given twice")) }
            } else if valued.contains(word) {
                guard let v = rest.popFirst(), !v.isEmpty else { return .failure(Problem("\(word) needs a value")) }
                guard values.updateValue(v, forKey: word) == nil else { return .failure(Problem("\(word) given twice")) }
            } else {
                let valid = (valued.sorted() + flagged.sorted()).joined(separator: ", ")
                return .failure(Problem("'\(command)' does not take \(shown: word) (valid: \(valid))"))
            }
        }
        guard let dir = values["--state-dir"] else { return .failure(Problem("'\(command)' needs --state-dir")) }
        if command == "agent" {
            guard let run = values["--run"] else { return .failure(Problem("'agent' needs --run")) }
            return .success(.agent(runId: run, stateDirectory: dir, ownPIDNamespace: flags.contains("--own-pid-namespace")))
        }
        guard flags.contains("--all") != (values["--run"] != nil) else {
            return .failure(Problem("'recover' needs exactly one of --all or --run ID"))
        }
        return .success(.recover(runId: values["--run"], stateDirectory: dir, force: flags.contains("--force")))
    }

    public struct Problem: Error, Equatable {
        public var text: String
        init(_ text: String) { self.text = text }
    }

    /// Runs the words (`CommandLine.arguments` without the program) and returns the exit code:
    /// 64 with the usage for words it cannot run.
    public static func run(_ words: [String]) -> Int32 {
        // A resource worker the agent started (`Workers`): not a command for people.
        if words.first == "worker" { return Workers.run(Array(words.dropFirst())) }
        switch parse(words) {
        case .failure(let p):
            Output.stderr("faultline-agent: \(p.text)\n\(usage)\n")
            return ExitCode.badInput
        case .success(.version):
            Output.stdout("\(FaultlineVersion.text)\n")
            return 0
        case .success(.agent(let run, let dir, let own)):
            return AgentServer(runId: run, stateDirectory: dir, ownPIDNamespace: own).serve()
        case .success(.recover(let run, let dir, let force)):
            let outcome = Recovery.recover(directory: dir, runId: run, force: force)
            for line in outcome.lines { Output.line(line) }
            return outcome.failures > 0 ? ExitCode.residue : 0
        }
    }
}
