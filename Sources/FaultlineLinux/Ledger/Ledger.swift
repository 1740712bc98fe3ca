import FaultlineCore
import Foundation
import Glibc

/// The on-disk record of what a run changed and how to undo it.
///
/// Every entry is written and fsynced *before* its injection, so a crash at any instant leaves
/// enough behind for `faultline recover` to put the host back.
public final class Ledger: @unchecked Sendable {
    public struct Entry: Codable, Equatable, Sendable {
        public enum State: String, Codable, Sendable {
            /// Recorded; the injection may or may not have happened yet.
            case pending
            case reverted
            /// Nothing to undo (a kill): kept for the audit trail only.
            case irreversible
        }
        public var id: Int
        public var fault: String
        public var host: String
        public var summary: String
        public var undo: [UndoStep]
        public var state: State
    }

    public struct File: Codable, Equatable, Sendable {
        public var runId: String
        /// The runner that owns the run: recover leaves a live owner's faults alone.
        public var ownerPid: Int32
        public var ownerStartTime: UInt64
        public var createdAt: String
        public var entries: [Entry] = []
    }

    public let path: String
    private let lock = NSLock()
    private var file: File
    /// Each entry's text as it stands in the file, encoded when it changes: a record costs the
    /// encoding of one entry, not of every entry the run has made so far.
    private var entryTexts: [String] = []

    /// Prepares the ledger of a new run under `directory` (created with mode 0700 if missing).
    ///
    /// The directory must be writable now, so a bad state directory fails before any fault; the
    /// file itself is first written with the first entry — a run without faults writes nothing.
    public init(directory: String, runId: String) throws(LedgerError) {
        // The id names the file: nothing that could reach outside the directory.
        guard Recovery.isRunId(runId) else { throw LedgerError.io("run id \(ShownText.escaped(runId)) is not a faultline run id") }
        try Self.ensureDirectory(directory)
        path = "\(directory)/\(runId).json"
        let me = getpid()
        file = File(runId: runId, ownerPid: me, ownerStartTime: ProcFS.stat(me)?.startTime ?? 0, createdAt: MonotonicClock.wallISO8601())
    }

    /// Records an entry durably and returns its id. Call before injecting.
    public func record(fault: String, host: String, summary: String, undo: [UndoStep]) throws(LedgerError) -> Int {
        lock.lock()
        defer { lock.unlock() }
        let id = file.entries.count
        file.entries.append(
            Entry(id: id, fault: fault, host: host, summary: summary, undo: undo, state: undo.isEmpty ? .irreversible : .pending))
        try persist(changed: id)
        return id
    }

    public func markReverted(_ id: Int) throws(LedgerError) {
        lock.lock()
        defer { lock.unlock() }
        guard file.entries.indices.contains(id), file.entries[id].state == .pending else { return }
        file.entries[id].state = .reverted
        try persist(changed: id)
    }

    public var pending: [Entry] {
        lock.lock()
        defer { lock.unlock() }
        return file.entries.filter { $0.state == .pending }
    }

    /// True when nothing was ever recorded (and so no file was written).
    public var isEmpty: Bool {
        lock.lock()
        defer { lock.unlock() }
        return file.entries.isEmpty
    }

    /// Removes the ledger when nothing is pending; returns whether it is gone.
    @discardableResult
    public func closeIfClean() -> Bool {
        guard pending.isEmpty else { return false }
        return unlink(path) == 0 || errno == ENOENT
    }

    /// Writes the whole file, entry `changed` encoded anew: the same text, byte for byte, as
    /// encoding the file whole (`LedgerTests`).
    private func persist(changed: Int) throws(LedgerError) {
        let text: String
        do {
            let entry = try Journal.encoder().text(file.entries[changed], indent: 2)
            if changed < entryTexts.count { entryTexts[changed] = entry } else { entryTexts.append(entry) }
            var head = file
            head.entries = []
            let empty = "\"entries\" : [\n\n  ]"
            let whole = try Journal.encoder().text(head, indent: 0)
            guard let at = whole.range(of: empty) else { throw LedgerError.io("ledger '\(path)': no entries array") }
            let items = "\"entries\" : [\n" + entryTexts.map { "    " + $0 }.joined(separator: ",\n") + "\n  ]"
            text = whole.replacingCharacters(in: at, with: items)
        } catch let e as LedgerError {
            throw e
        } catch {
            throw LedgerError.io("encode ledger '\(path)': \(error)")
        }
        try Self.writeDurably(Data(text.utf8), to: path)
    }

    /// Writes to a temporary file, fsyncs it, renames it over `path` and fsyncs the directory.
    static func writeDurably(_ data: Data, to path: String) throws(LedgerError) {
        do {
            try AtomicFile.replace(path, with: data, mode: 0o600, flush: .contentsAndName)
        } catch {
            throw LedgerError.io(error.description)
        }
    }

    /// The state directory, created (mode 0700) if missing. One that exists must be a directory
    /// (not a symbolic link) owned by this user and closed to group and others: anyone else who
    /// could write in it could plant a ledger that `recover` would act on.
    static func ensureDirectory(_ dir: String) throws(LedgerError) {
        var st = stat()
        if lstat(dir, &st) == 0 {
            if let problem = Self.untrusted(dir, st, directory: true) { throw LedgerError.io(problem) }
            guard access(dir, W_OK) == 0 else { throw LedgerError.io("state directory '\(dir)': \(errnoText())") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw LedgerError.io("create state directory '\(dir)': \((error as NSError).localizedDescription); use --state-dir")
        }
    }

    /// Why a state directory or a ledger file is not to be trusted, naming the fix; nil when it is.
    static func untrusted(_ path: String, _ st: stat, directory: Bool) -> String? {
        let what = directory ? "state directory" : "ledger"
        let type = st.st_mode & S_IFMT
        if type == S_IFLNK { return "\(what) '\(path)' is a symbolic link; refused (use the real path)" }
        if directory, type != S_IFDIR { return "state directory '\(path)' is not a directory" }
        if !directory, type != S_IFREG { return "ledger '\(path)' is not a regular file; refused" }
        if st.st_uid != geteuid() {
            return
                "\(what) '\(path)' belongs to uid \(st.st_uid), not to this user (uid \(geteuid())); refused (chown it, or use another --state-dir)"
        }
        if st.st_mode & 0o022 != 0 {
            return
                "\(what) '\(path)' can be written by group or others (mode \(String(st.st_mode & 0o777, radix: 8))); refused (chmod go-w '\(path)')"
        }
        return nil
    }
}

public enum LedgerError: Error, Equatable, Sendable, CustomStringConvertible {
    case io(String)
    public var description: String {
        switch self {
        case .io(let s): return "ledger: \(s)"
        }
    }
}
