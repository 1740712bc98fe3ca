import FaultlineCore
import Foundation
import Glibc

/// The emergency halt: files whose existence stops runs. `<state>/HALT` stops every run under
/// that state directory and refuses new ones while it exists (the safety lever); a path the user
/// names (`--halt-file`, `FAULTLINE_HALT_FILE`: shared storage for a fleet) does the same for
/// every run that names it; `<state>/HALT.<run>` stops one run, which removes it when it ends.
/// A run marks itself in `<state>/runs/<run>` (its pid) so `faultline halt` can find and await it.
public enum Halt {
    public static func leverFile(stateDirectory: String) -> String { "\(stateDirectory)/HALT" }
    public static func runFile(stateDirectory: String, runId: String) -> String { "\(stateDirectory)/HALT.\(runId)" }
    public static func runsDirectory(stateDirectory: String) -> String { "\(stateDirectory)/runs" }
    public static func marker(stateDirectory: String, runId: String) -> String {
        "\(runsDirectory(stateDirectory: stateDirectory))/\(runId)"
    }

    /// The variable naming one more halt file for every run.
    public static let environmentVariable = "FAULTLINE_HALT_FILE"

    /// Whether a path exists (any kind of file; a dangling link counts: someone put it there).
    static func present(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// A run id as `faultline run` makes them: letters, digits and '-' (so it names no other path).
    public static func isRunId(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64
            && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D }
    }

    /// The runs marked under a state directory whose runner is alive: run id → pid.
    public static func liveRuns(stateDirectory: String) -> [String: Int32] {
        let dir = runsDirectory(stateDirectory: stateDirectory)
        var out: [String: Int32] = [:]
        for id in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where isRunId(id) {
            guard case .success(let bytes) = InputFile.read("\(dir)/\(id)", maxBytes: 64),
                let pid = Int32(String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
                kill(pid, 0) == 0 || errno == EPERM
            else { continue }
            out[id] = pid
        }
        return out
    }

    /// Removes the markers of runs whose runner is gone (killed outright, with no agent left to
    /// remove it), and the markers' folder once empty; the run ids removed.
    @discardableResult
    public static func pruneMarkers(stateDirectory: String) -> [String] {
        let dir = runsDirectory(stateDirectory: stateDirectory)
        let live = liveRuns(stateDirectory: stateDirectory)
        var removed: [String] = []
        for id in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where live[id] == nil && isRunId(id) {
            if unlink("\(dir)/\(id)") == 0 { removed.append(id) }
        }
        rmdir(dir)
        return removed.sorted()
    }

    /// Writes a halt file: who asked, and when on this machine's monotonic clock with its boot,
    /// so a run on the same machine measures its brake from the command, not from its next look.
    public static func write(_ path: String) throws {
        let text = """
            halted by faultline halt (pid \(getpid())) at \(MonotonicClock.wallISO8601())
            monotonic_ns=\(MonotonicClock.now())
            boot_id=\(bootId ?? "-")

            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// This boot's id (the monotonic clock is comparable only within one boot of one machine).
    static var bootId: String? {
        guard case .success(let b) = InputFile.read("/proc/sys/kernel/random/boot_id", maxBytes: 64) else { return nil }
        return String(decoding: b, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// When the halt file at `path` was written, if `faultline halt` wrote it on this boot of this
    /// machine and the instant is not in the future; else nil (then the run's look is the instant).
    /// Only these two fields are read; the file's text is never shown.
    static func writtenAt(_ path: String, now: Int64) -> Int64? {
        guard case .success(let b) = InputFile.read(path, maxBytes: 512) else { return nil }
        var fields: [Substring: Substring] = [:]
        for line in String(decoding: b, as: UTF8.self).split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            fields[line[..<eq]] = line[line.index(after: eq)...]
        }
        guard let boot = bootId, fields["boot_id"].map(String.init) == boot, let t = fields["monotonic_ns"].flatMap({ Int64($0) }),
            t > 0, t <= now
        else { return nil }
        return t
    }
}

/// Looks for halt files every `tick` on its own thread; the first one found is reported once.
final class HaltWatch: @unchecked Sendable {
    let paths: [String]
    let tick: Int64
    private let lock = NSLock()
    private var stopping = false
    private let done = DispatchSemaphore(value: 0)

    init(paths: [String], tick: Int64 = 10_000_000) {
        self.paths = paths
        self.tick = tick
    }

    func start(_ found: @escaping @Sendable (String) -> Void) {
        let thread = Thread { [self] in
            var next = MonotonicClock.now()
            while !self.isStopping {
                if let p = self.paths.first(where: Halt.present) {
                    found(p)
                    break
                }
                next += self.tick
                MonotonicClock.sleep(until: next)
            }
            self.done.signal()
        }
        thread.name = "halt watch"
        thread.start()
    }

    private var isStopping: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    func stop() {
        lock.lock()
        stopping = true
        lock.unlock()
        done.wait()
    }
}
