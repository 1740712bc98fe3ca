import FaultlineEssentials
import FoundationEssentials
import Glibc

/// What an agent answers when the runner asks, before anything is injected, whether its host can
/// take a fault: a kernel feature, or the state of a device a fault would shape. Each answer is
/// "yes: why" or "no: why", the why naming what was found.
package enum HostCapability {
    /// The names an agent answers: `netem`, `ifb`, `nfqueue`, `nftables`, `cgroup2`, `device D`
    /// (it exists), `root D` (its root qdisc is the kernel's own, so faultline may add one),
    /// `ingress D` (no ingress qdisc yet).
    package static func answer(_ name: String) -> String? {
        if name.hasPrefix("folder ") { return folder(String(name.dropFirst(7))) }
        let words = name.split(separator: " ").map(String.init)
        switch (words.first, words.count) {
        case ("netem", 1):
            let a = KernelFeatures.netem
            return "\(a.available ? "yes" : "no"): \(a.why)"
        case ("ifb", 1):
            let a = KernelFeatures.module("ifb", option: "CONFIG_IFB")
            return "\(a.available ? "yes" : "no"): \(a.why)"
        case ("nfqueue", 1):
            let a = KernelFeatures.module("nfnetlink_queue", option: "CONFIG_NETFILTER_NETLINK_QUEUE")
            return "\(a.available ? "yes" : "no"): \(a.why)"
        case ("nftables", 1):
            return NetfilterTables.list() != nil ? "yes: nf_tables answers over netlink" : "no: nf_tables does not answer over netlink"
        case ("cgroup2", 1):
            return FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
                ? "yes: cgroup v2 at /sys/fs/cgroup" : "no: no cgroup v2 hierarchy at /sys/fs/cgroup"
        case ("device", 2):
            return TrafficControl.index(words[1]) != nil ? "yes: \(words[1]) exists" : "no: this host has no device '\(words[1])'"
        case ("root", 2):
            return TrafficControl.foreignRoot(words[1]).map { "no: \($0)" } ?? "yes: the root is the kernel's default"
        case ("ingress", 2):
            return TrafficControl.foreignIngress(words[1]).map { "no: \($0)" } ?? "yes: no ingress qdisc"
        default:
            return nil
        }
    }

    /// `folder PATH`: whether PATH is a folder here, with its filesystem's free and total bytes
    /// and whether it holds the agent's state directory: `yes: free=F size=S state=0|1`.
    static func folder(_ path: String) -> String {
        var st = stat()
        guard stat(path, &st) == 0 else { return "no: this host has no \(ShownText.escaped(path, limit: 200))" }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { return "no: \(ShownText.escaped(path, limit: 200)) is not a folder" }
        var v = statvfs()
        guard statvfs(path, &v) == 0 else { return "no: statvfs \(ShownText.escaped(path, limit: 200)): \(errnoText())" }
        let same = AgentServer.stateDirectory(onDevice: UInt64(st.st_dev)) != nil
        return "yes: free=\(UInt64(v.f_bavail) * UInt64(v.f_frsize)) size=\(UInt64(v.f_blocks) * UInt64(v.f_frsize)) state=\(same ? 1 : 0)"
    }
}
