import FaultlineEssentials
import FoundationEssentials
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
    private let lock = Lock()
    private var file: File
    /// Each entry's text as it stands in the file, encoded when it changes: a record costs the
    /// encoding of one entry, not of every entry the run has made so far.
    private var entryTexts: [String] = []
    /// Group commit: every change has a generation; a writer persists every change made so far,
    /// so faults recorded at one instant by concurrent injects share one write and fsync.
    private var generation = 0
    private var persisted = 0
    private let writing = Lock()

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
    /// Records an entry durably and returns its id. Call before injecting. Safe from several
    /// threads at once: entries recorded while a write is under way are written together next.
    public func record(fault: String, host: String, summary: String, undo: [UndoStep]) throws(LedgerError) -> Int {
        let (id, generation) = try stage(fault: fault, host: host, summary: summary, undo: undo)
        try commit(generation)
        return id
    }

    /// Adds an entry without writing it yet: its id, and the generation `commit` makes durable.
    /// The faults of one instant stage their entries, then commit them in one write.
    func stage(fault: String, host: String, summary: String, undo: [UndoStep]) throws(LedgerError) -> (id: Int, generation: Int) {
        lock.lock()
        defer { lock.unlock() }
        let id = file.entries.count
        file.entries.append(
            Entry(id: id, fault: fault, host: host, summary: summary, undo: undo, state: undo.isEmpty ? .irreversible : .pending))
        do {
            return (id, try change(id))
        } catch {
            file.entries.removeLast()
            throw error
        }
    }

    /// Encodes an entry like the one an injection would stage, and keeps nothing: a fresh agent's
    /// first encoding of each type asks the Swift runtime about its conformances (a scan of
    /// every conformance record, tens of microseconds each), which an armed fault does while it
    /// waits rather than at its instant.
    func warm(fault: String, host: String, summary: String, undo: [UndoStep]) {
        let entry = Entry(id: 0, fault: fault, host: host, summary: summary, undo: undo, state: .pending)
        _ = try? FaultlineJSON.encoder().text(entry, indent: 2)
        // And the file around the entries, which is encoded once (`head`).
        lock.lock()
        _ = try? head()
        lock.unlock()
    }

    /// Makes every change up to `generation` durable (one write for all staged before it).
    func commit(_ generation: Int) throws(LedgerError) { try persist(through: generation) }

    public func markReverted(_ id: Int) throws(LedgerError) {
        lock.lock()
        guard file.entries.indices.contains(id), file.entries[id].state == .pending else {
            lock.unlock()
            return
        }
        file.entries[id].state = .reverted
        let mine: Int
        do {
            mine = try change(id)
        } catch {
            lock.unlock()
            throw error
        }
        lock.unlock()
        try persist(through: mine)
    }

    /// Encodes entry `id` anew and returns the generation of this change. Called with `lock` held.
    private func change(_ id: Int) throws(LedgerError) -> Int {
        let entry: String
        do {
            entry = try FaultlineJSON.encoder().text(file.entries[id], indent: 2)
        } catch {
            throw LedgerError.io("encode ledger '\(path)': \(error)")
        }
        if id < entryTexts.count { entryTexts[id] = entry } else { entryTexts.append(entry) }
        generation += 1
        return generation
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

    /// Makes every change up to generation `mine` durable: the whole file, as it stands, written
    /// once for all the changes since the last write (the same text, byte for byte, as encoding
    /// the file whole: `LedgerTests`). A change another writer has already covered costs nothing.
    private func persist(through mine: Int) throws(LedgerError) {
        writing.lock()
        defer { writing.unlock() }
        lock.lock()
        guard persisted < mine else {
            lock.unlock()
            return
        }
        let covers = generation
        let text = Result { () throws(LedgerError) in try composed() }
        lock.unlock()
        let written = try text.get()
        try Self.writeDurably(Data(written.utf8), to: path)
        lock.lock()
        persisted = max(persisted, covers)
        lock.unlock()
    }

    /// The file's text, from the entries' encoded texts. Called with `lock` held.
    private func composed() throws(LedgerError) -> String {
        let (before, after) = try head()
        var out = before
        out += "\"entries\" : [\n"
        for (i, text) in entryTexts.enumerated() {
            if i > 0 { out += ",\n" }
            out += "    "
            out += text
        }
        out += "\n  ]"
        out += after
        return out
    }

    /// The file's text around its entries, encoded once (only the entries ever change).
    private var headParts: (before: String, after: String)?

    private func head() throws(LedgerError) -> (before: String, after: String) {
        if let headParts { return headParts }
        var head = file
        head.entries = []
        let empty = "\"entries\" : [\n\n  ]"
        let whole: String
        do {
            whole = try FaultlineJSON.encoder().text(head, indent: 0)
        } catch {
            throw LedgerError.io("encode ledger '\(path)': \(error)")
        }
        guard let at = whole.firstRange(of: empty) else { throw LedgerError.io("ledger '\(path)': no entries array") }
        let parts = (String(whole[..<at.lowerBound]), String(whole[at.upperBound...]))
        headParts = parts
        return parts
    }

    /// Writes to a temporary file, fsyncs it, renames it over `path` and fsyncs the directory.
    package static func writeDurably(_ data: Data, to path: String) throws(LedgerError) {
        do {
            try AtomicFile.replace(path, with: data, mode: 0o600, flush: .contentsAndName)
        } catch {
            throw LedgerError.io(error.description)
        }
    }

    /// The state directory, created (mode 0700) if missing. One that exists must be a directory
    /// (not a symbolic link) owned by this user and closed to group and others: anyone else who
    /// could write in it could plant a ledger that `recover` would act on.
    package static func ensureDirectory(_ dir: String) throws(LedgerError) {
        var st = stat()
        if lstat(dir, &st) == 0 {
            if let problem = Self.untrusted(dir, st, directory: true) { throw LedgerError.io(problem) }
            guard access(dir, W_OK) == 0 else { throw LedgerError.io("state directory '\(dir)': \(errnoText())") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw LedgerError.io("create state directory '\(dir)': \(error); use --state-dir")
        }
    }

    /// Why a state directory or a ledger file is not to be trusted, naming the fix; nil when it is.
    package static func untrusted(_ path: String, _ st: stat, directory: Bool) -> String? {
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
