import FaultlineCore
import Glibc

/// The cgroups of a lab's `cgroup: true` services: `faultline-lab-LAB/HOST-SERVICE`, one per
/// service, as a systemd unit has one — on each cgroup v1 hierarchy of the cpu, memory and io
/// controllers, nested under the cgroup `lab up` runs in (the accounting it lives under stays
/// over the lab); on cgroup v2 under the root, since a v2 cgroup that has processes cannot
/// have controllers for its children. Only controllers the host offers are used.
enum LabCgroups {
    static func parentName(_ lab: String) -> String { "faultline-lab-\(lab)" }

    /// One directory to make, parent or leaf; a v2 parent enables its controllers for its child.
    struct Dir: Equatable {
        var path: String
        var enable: [String]
    }

    /// The directories of one service's cgroup, parents first, or why there can be none.
    static func plan(lab: String, host: String, service: String, mounts: [Cgroups.Mount] = Cgroups.mounts()) -> Result<[Dir], LabError> {
        let leaf = "\(host)-\(service)"
        guard leaf.utf8.count <= 64, leaf.utf8.allSatisfy({ isNameByte($0) }) else {
            return .failure(
                .refused(
                    "service '\(service)' of host '\(host)': 'cgroup: true' needs a service name of letters, digits, '-', '_' or '.' (its cgroup is named after it)"
                ))
        }
        var dirs: [Dir] = []
        var v2: [String] = []
        for controller in [CgroupController.cpu, .memory, .io] {
            guard case .success(let mine) = Cgroups.place(pid: getpid(), controller: controller, mounts: mounts) else { continue }
            if mine.version == .v1 {
                let parent = "\(mine.dir)/\(parentName(lab))"
                if !dirs.contains(where: { $0.path == parent }) {
                    dirs += [Dir(path: parent, enable: []), Dir(path: "\(parent)/\(leaf)", enable: [])]
                }
            } else if let m = mounts.first(where: { $0.fstype == "cgroup2" }),
                Cgroups.read(m.path, "cgroup.subtree_control")?.split(separator: " ").contains(Substring(controller.rawValue)) == true
            {
                v2.append(controller.rawValue)
            }
        }
        if !v2.isEmpty, let m = mounts.first(where: { $0.fstype == "cgroup2" }) {
            let parent = "\(m.path)/\(parentName(lab))"
            dirs += [Dir(path: parent, enable: v2), Dir(path: "\(parent)/\(leaf)", enable: [])]
        }
        guard !dirs.isEmpty else {
            return .failure(
                .refused(
                    "service '\(service)' of host '\(host)' asks for a cgroup of its own, but this host has no cpu, memory or io controller mounted under /sys/fs/cgroup that faultline may use (a v1 hierarchy, or v2 with the controller in the root's cgroup.subtree_control)"
                ))
        }
        return .success(dirs)
    }

    static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || "-_.".utf8.contains(b)
    }

    /// Makes a directory (already there is fine: another service of the lab made the parent).
    static func make(_ d: Dir) throws(LabError) {
        if mkdir(d.path, 0o755) != 0, errno != EEXIST { throw LabError.system("mkdir \(d.path): \(errnoText())") }
        guard !d.enable.isEmpty else { return }
        do { try Cgroups.write(d.path, "cgroup.subtree_control", d.enable.map { "+\($0)" }.joined(separator: " ")) } catch {
            throw LabError.system("enable \(d.enable.joined(separator: ", ")) for the children of \(d.path): \(error)")
        }
    }

    /// Removes the lab's cgroups, children first; their processes may take a moment to be gone.
    static func remove(_ paths: [String]) -> [String] {
        var problems: [String] = []
        for path in paths.reversed() {
            let deadline = MonotonicClock.now() + 3_000_000_000
            while rmdir(path) != 0 {
                if errno == ENOENT { break }
                guard errno == EBUSY, MonotonicClock.now() < deadline else {
                    problems.append("rmdir \(path): \(errnoText())")
                    break
                }
                usleep(10_000)
            }
        }
        return problems
    }

    /// A path `lab up` of `lab` makes: under /sys/fs/cgroup, without `..`, ending in the lab's
    /// parent or one leaf below it.
    static func isLabCgroup(_ path: String, lab: String) -> Bool {
        guard path.hasPrefix("/sys/fs/cgroup/"), path.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else { return false }
        let parts = path.split(separator: "/")
        guard !parts.contains(".."), !parts.contains("."), let i = parts.lastIndex(of: Substring(parentName(lab))) else { return false }
        return i == parts.count - 1 || (i == parts.count - 2 && parts[i + 1].utf8.allSatisfy(isNameByte))
    }
}
