import FaultlineCore
import Glibc

/// Starts a long-lived process in its own session with output to a log file, and does not wait.
enum Detached {
    static func start(_ argv: [String], log: String, environment: [String: String]? = nil) -> Result<pid_t, LabError> {
        var options = Launcher.Options()
        options.stdout = .file(log)
        options.newSession = true
        options.environment = environment
        return Launcher.spawn(argv, options).mapError { LabError.system("cannot run '\(argv[0])': \($0.text)") }
    }
}
