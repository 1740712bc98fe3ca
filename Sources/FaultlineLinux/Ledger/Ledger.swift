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

    /// Prepares the ledger of a new run under `directory` (created with mode 0700 if missing).
    ///
    /// The directory must be writable now, so a bad state directory fails before any fault; the
    /// file itself is first written with the first entry — a run without faults writes nothing.
    public init(directory: String, runId: String) throws(LedgerError) {
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
        try persist()
        return id
    }

    public func markReverted(_ id: Int) throws(LedgerError) {
        lock.lock()
        defer { lock.unlock() }
        guard file.entries.indices.contains(id), file.entries[id].state == .pending else { return }
        file.entries[id].state = .reverted
        try persist()
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

    private func persist() throws(LedgerError) {
        let data: Data
        do {
            data = try Journal.encoder().encode(file)
        } catch {
            throw LedgerError.io("encode ledger '\(path)': \(error)")
        }
        try Self.writeDurably(data, to: path)
    }

    /// Writes to a temporary file, fsyncs it, renames it over `path` and fsyncs the directory.
    static func writeDurably(_ data: Data, to path: String) throws(LedgerError) {
        do {
            try AtomicFile.replace(path, with: data, mode: 0o600, flush: .contentsAndName)
        } catch {
            throw LedgerError.io(error.description)
        }
    }

    static func ensureDirectory(_ dir: String) throws(LedgerError) {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { throw LedgerError.io("state directory '\(dir)' is not a directory") }
            guard access(dir, W_OK) == 0 else { throw LedgerError.io("state directory '\(dir)': \(errnoText())") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw LedgerError.io("create state directory '\(dir)': \((error as NSError).localizedDescription); use --state-dir")
        }
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
