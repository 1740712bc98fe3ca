import FaultlineEssentials
import Glibc

/// The cgroup filesystems a host has mounted, and where a process's cgroup is for a controller.
///
/// Hosts differ: cgroup v2 alone (`/sys/fs/cgroup`, every current distribution), or the hybrid
/// layout of older ones — controllers on v1 hierarchies (`/sys/fs/cgroup/memory`, …) and an empty
/// v2 tree at `/sys/fs/cgroup/unified`. A controller is looked up on the v1 hierarchy that holds
/// it first (a controller bound to v1 is absent from v2), then on v2.
package enum Cgroups {
    package enum Version: String, Codable, Sendable { case v1, v2 }

    /// One mounted cgroup filesystem (a v1 hierarchy or the v2 tree), or the tmpfs beneath them.
    package struct Mount: Equatable, Sendable {
        package var path: String
        package var fstype: String
        /// v1: the hierarchy's controllers (and `name=…`); v2: the root's available controllers.
        package var options: [String]
    }

    /// Where a process's cgroup is for one controller.
    package struct Place: Equatable, Sendable {
        package var version: Version
        /// The directory in this host's mount namespace (`/sys/fs/cgroup/memory/a/b`).
        package var dir: String
        /// The cgroup's path inside its hierarchy (`/a/b`); `/` is the root cgroup.
        package var path: String
    }

    /// The cgroup filesystems (and the tmpfs that holds v1 hierarchies) under /sys/fs/cgroup, in
    /// mount order, from /proc/self/mountinfo; only mounts of their hierarchy's root.
    package static func mounts() -> [Mount] {
        guard let text = ProcFS.read("/proc/self/mountinfo") else { return [] }
        var out: [Mount] = []
        for line in text.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2 else { continue }
            let left = halves[0].split(separator: " ")
            let right = halves[1].split(separator: " ")
            guard left.count >= 5, right.count >= 3, left[3] == "/" else { continue }
            let path = unescape(String(left[4]))
            guard path == root || path.hasPrefix(root + "/") else { continue }
            let fstype = String(right[0])
            let superOptions = right[2].split(separator: ",").map(String.init).filter { $0 != "rw" && $0 != "ro" }
            switch fstype {
            case "cgroup": out.append(Mount(path: path, fstype: fstype, options: superOptions))
            case "cgroup2":
                let available = ProcFS.read("\(path)/cgroup.controllers")?.split(whereSeparator: \.isWhitespace).map(String.init) ?? []
                out.append(Mount(path: path, fstype: fstype, options: available))
            case "tmpfs" where path == root: out.append(Mount(path: path, fstype: fstype, options: []))
            default: continue
            }
        }
        return out
    }

    static let root = "/sys/fs/cgroup"

    /// mountinfo escapes space, tab, newline and backslash as octal.
    static func unescape(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var bytes: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        while i < b.count {
            if b[i] == 92, i + 3 < b.count, let v = UInt8(String(decoding: b[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                bytes.append(v)
                i += 4
            } else {
                bytes.append(b[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func v1Name(_ controller: CgroupController) -> String { controller == .io ? "blkio" : controller.rawValue }

    /// Where `pid`'s cgroup is for `controller`, or why it cannot be limited.
    package static func place(pid: Int32, controller: CgroupController, mounts: [Mount] = mounts()) -> Result<Place, FaultError> {
        guard let text = ProcFS.read("/proc/\(pid)/cgroup") else { return .failure(.target("process \(pid) is gone")) }
        return place(cgroupFile: text, controller: controller, mounts: mounts)
    }

    /// The same from the text of a `/proc/PID/cgroup`.
    package static func place(cgroupFile text: String, controller: CgroupController, mounts: [Mount]) -> Result<Place, FaultError> {
        var v2Path: String?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[0] == "0", parts[1].isEmpty {
                v2Path = String(parts[2])
                continue
            }
            let names = parts[1].split(separator: ",").map(String.init)
            guard names.contains(v1Name(controller)) else { continue }
            guard let m = mounts.first(where: { $0.fstype == "cgroup" && $0.options.contains(v1Name(controller)) }) else {
                return .failure(
                    .refused("the \(controller) controller is on a cgroup v1 hierarchy this host has not mounted under \(root)"))
            }
            return .success(Place(version: .v1, dir: join(m.path, String(parts[2])), path: String(parts[2])))
        }
        guard let path = v2Path, let m = mounts.first(where: { $0.fstype == "cgroup2" }) else {
            return .failure(.refused("no cgroup filesystem under \(root) has the \(controller) controller"))
        }
        guard m.options.contains(controller.rawValue) else {
            return .failure(
                .refused("the cgroup v2 tree at \(m.path) does not offer the \(controller) controller (its cgroup.controllers)"))
        }
        return .success(Place(version: .v2, dir: join(m.path, path), path: path))
    }

    static func join(_ mount: String, _ path: String) -> String { path == "/" ? mount : mount + path }

    /// A cgroup file's content without its trailing newline, or nil.
    package static func read(_ dir: String, _ file: String) -> String? {
        ProcFS.read("\(dir)/\(file)")?.trimmingBlanks
    }

    /// Writes one value to a cgroup file, as one write(2) (a cgroup file takes one value per write).
    package static func write(_ dir: String, _ file: String, _ value: String) throws(FaultError) {
        let path = "\(dir)/\(file)"
        let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            if errno == ENOENT { throw FaultError.target("\(path) is gone") }
            throw FaultError.system("open \(path): \(errnoText())")
        }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else {
            let why = errno
            throw FaultError.system("write '\(value)' to \(path): \(String(cString: strerror(why)))\(hint(file, why))")
        }
    }

    /// What a refused write usually means.
    static func hint(_ file: String, _ error: Int32) -> String {
        if error == EBUSY, file == "memory.limit_in_bytes" {
            return
                " (cgroup v1 refuses a limit below what the cgroup already uses: it reclaims, but does not kill to meet a new limit; cgroup v2 does)"
        }
        return ""
    }

    /// A `key value` line of a flat-keyed file (`cpu.stat`, `memory.events`), or nil.
    package static func field(_ text: String?, _ key: String) -> Double? {
        guard let text else { return nil }
        for line in text.split(separator: "\n") {
            let kv = line.split(separator: " ")
            if kv.count == 2, kv[0] == key { return Double(kv[1]) }
        }
        return nil
    }

    /// `some avg10` of a cgroup v2 pressure file, in percent.
    package static func pressure(_ dir: String, _ resource: String) -> Double? {
        guard let text = ProcFS.read("\(dir)/\(resource).pressure"),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("some") }),
            let field = line.split(separator: " ").first(where: { $0.hasPrefix("avg10=") })
        else { return nil }
        return Double(field.dropFirst(6))
    }

    /// Whether a file reads as the value written: the kernel rounds byte limits down to a page.
    package static func same(_ read: String, _ written: String) -> Bool {
        if read == written { return true }
        guard let a = UInt64(read), let b = UInt64(written) else { return false }
        return (a > b ? a - b : b - a) < 4096
    }

    /// The cgroup files faultline's limits write, and the shape of every value it writes or
    /// restores: a ledger names them, and `recover` writes nothing else.
    package static let limitFiles: Set<String> = Set([
        "cpu.max", "cpu.cfs_quota_us", "cpu.cfs_period_us", "memory.max", "memory.high", "memory.limit_in_bytes",
    ]).union(ioFiles)

    /// Files of one line per device (`MAJ:MIN …`): a write sets one device's line.
    package static let ioFiles: Set<String> = [
        "io.max", "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device", "blkio.throttle.read_iops_device",
        "blkio.throttle.write_iops_device",
    ]

    /// `MAJ:MIN` of the whole disk under `path`: a block device node's own, or the device of the
    /// filesystem holding the path; a partition gives its disk (the throttle is the disk's).
    package static func disk(of path: String) -> Result<String, FaultError> {
        var st = stat()
        guard stat(path, &st) == 0 else { return .failure(.target("\(path): \(errnoText())")) }
        let dev = (st.st_mode & S_IFMT) == S_IFBLK ? st.st_rdev : st.st_dev
        // glibc's gnu_dev_major / gnu_dev_minor (macros Swift does not import).
        let d = UInt64(dev)
        let major = ((d >> 8) & 0xfff) | ((d >> 32) & 0xffff_f000)
        let minor = (d & 0xff) | ((d >> 12) & 0xffff_ff00)
        let id = "\(major):\(minor)"
        guard access("/sys/dev/block/\(id)", F_OK) == 0 else {
            return .failure(
                .refused(
                    "\(path) is on no block device (device \(id): a tmpfs, an overlay or a network filesystem): there is no disk to limit"))
        }
        if access("/sys/dev/block/\(id)/partition", F_OK) == 0,
            let parent = ProcFS.read("/sys/dev/block/\(id)/../dev")?.trimmingBlanks
        {
            return .success(parent)
        }
        return .success(id)
    }

    /// What a file holds for comparing with `value`: for a per-device file, that device's line
    /// (or the line that means "no limit" when it has none); else the whole content.
    package static func readBack(_ dir: String, _ file: String, like value: String) -> String? {
        guard let text = read(dir, file) else { return nil }
        guard ioFiles.contains(file), let device = value.split(separator: " ").first else { return text }
        if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(device + " ") }) {
            let words = line.split(separator: " ")
            // v1 shows a removed limit as no line; v2 as no line or all keys max.
            return words.count == 2 && words[1] == "0" ? "\(device) 0" : String(line)
        }
        return file == "io.max" ? "\(device) rbps=max wbps=max riops=max wiops=max" : "\(device) 0"
    }

    /// Why `dir`/`file` = `value` is not a write faultline makes, or nil.
    package static func refusal(dir: String, file: String, value: String) -> String? {
        guard dir == root || dir.hasPrefix(root + "/"), !dir.split(separator: "/").contains(".."),
            dir.utf8.allSatisfy({ $0 > 32 && $0 < 127 })
        else { return "'\(ShownText.escaped(dir))' is not a cgroup directory under \(root)" }
        guard limitFiles.contains(file) else { return "'\(ShownText.escaped(file))' is not a cgroup limit faultline sets" }
        let words = value.split(separator: " ", omittingEmptySubsequences: false)
        let number: (Substring) -> Bool = { w in w == "max" || (!w.isEmpty && w.count <= 20 && (w.allSatisfy(\.isNumber) || w == "-1")) }
        let device: (Substring) -> Bool = { w in
            let mm = w.split(separator: ":", omittingEmptySubsequences: false)
            return mm.count == 2 && mm.allSatisfy { !$0.isEmpty && $0.count <= 7 && $0.allSatisfy(\.isNumber) }
        }
        let ok: Bool
        if file == "io.max" {
            ok =
                words.count == 5 && device(words[0])
                && zip(words.dropFirst(), ["rbps", "wbps", "riops", "wiops"]).allSatisfy { w, k in
                    w.hasPrefix(k + "=") && number(w.dropFirst(k.count + 1)) && w.dropFirst(k.count + 1) != "-1"
                }
        } else if ioFiles.contains(file) {
            ok = words.count == 2 && device(words[0]) && !words[1].isEmpty && words[1].count <= 20 && words[1].allSatisfy(\.isNumber)
        } else if file == "cpu.max" {
            ok = words.count == 2 && number(words[0]) && words[1].allSatisfy(\.isNumber)
        } else {
            ok = words.count == 1 && number(words[0])
        }
        return ok ? nil : "'\(ShownText.escaped(value))' is not a value faultline writes to \(file)"
    }
}
