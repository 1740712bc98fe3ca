import FaultlineEssentials
import Glibc

extension DiskFillFault: TaggedWork {}

/// Allocates a file (fallocate: the blocks are reserved, nothing is written) in the folder so
/// that its filesystem has `leave` free; revert removes it. Confirmed and measured by statvfs.
public struct DiskFillDriver: FaultEffect {
    public init() {}

    func file(_ work: DiskFillFault) -> String { "\(work.path.hasSuffix("/") ? String(work.path.dropLast()) : work.path)/\(work.tag).fill" }

    static func space(_ path: String) -> (free: UInt64, size: UInt64)? {
        var v = statvfs()
        guard statvfs(path, &v) == 0 else { return nil }
        return (UInt64(v.f_bavail) * UInt64(v.f_frsize), UInt64(v.f_blocks) * UInt64(v.f_frsize))
    }

    func target(_ work: DiskFillFault, size: UInt64) -> UInt64 {
        switch work.leave {
        case .bytes(let b): return b
        case .share(let p): return UInt64(p * Double(size))
        }
    }

    public func prepare(_ work: DiskFillFault) throws(FaultError) -> Injection {
        guard UndoStep.isFaultlineTable(work.tag) else { throw FaultError.refused("disk_fill without its tag (a faultline bug)") }
        try Workers.requireFolder(work.path, allowStateFilesystem: work.allowStateFilesystem, verb: "fill")
        guard let s = Self.space(work.path) else { throw FaultError.system("statvfs \(work.path): \(errnoText())") }
        let leave = target(work, size: s.size)
        guard s.free > leave else {
            throw FaultError.target(
                "'\(work.path)' has \(ByteSizeText.format(s.free)) free already, not more than the \(ByteSizeText.format(leave)) to leave")
        }
        var i = Injection(undo: [.removeFile(file(work))], summary: "fill \(ByteSizeText.format(s.free - leave)) in \(file(work))")
        i.baseline["free"] = Double(s.free)
        return i
    }

    public func apply(_ work: DiskFillFault, _ injection: Injection) throws(FaultError) {
        guard let s = Self.space(work.path) else { throw FaultError.system("statvfs \(work.path): \(errnoText())") }
        let leave = target(work, size: s.size)
        guard s.free > leave else { return }
        let path = file(work)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw FaultError.system("create \(path): \(errnoText())") }
        defer { close(fd) }
        // Root may use the blocks reserved for it: what is left for others is f_bavail.
        let rc = posix_fallocate(fd, 0, off_t(s.free - leave))
        if rc != 0 { throw FaultError.system("fallocate \(ByteSizeText.format(s.free - leave)) in \(path): \(errnoText(rc))") }
    }

    /// The free space at most `leave` plus 1 % of the filesystem (others write meanwhile).
    public func confirm(_ work: DiskFillFault, _ injection: Injection, deadline: Int64) -> Confirmation {
        guard let s = Self.space(work.path) else { return Confirmation(ok: false, detail: "statvfs \(work.path): \(errnoText())", at: nil) }
        let leave = target(work, size: s.size)
        let ok = s.free <= leave + s.size / 100
        return Confirmation(
            ok: ok,
            detail:
                "\(ByteSizeText.format(s.free)) free of \(ByteSizeText.format(s.size)) on \(work.path)\(ok ? "" : ", not \(ByteSizeText.format(leave))")",
            at: ok ? MonotonicClock.now() : nil)
    }

    public func measure(_ work: DiskFillFault, _ injection: Injection) -> String? {
        guard let s = Self.space(work.path) else { return nil }
        let before = injection.baseline["free"].map { ByteSizeText.format(UInt64($0)) } ?? "-"
        return
            "\(ByteSizeText.format(target(work, size: s.size))) to leave asked: \(ByteSizeText.format(s.free)) free now, \(before) before"
    }
}
