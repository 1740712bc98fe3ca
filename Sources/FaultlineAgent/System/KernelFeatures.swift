import FaultlineEssentials
import FoundationEssentials
import Glibc

/// What this host's kernel can do, asked before a fault that needs it is injected.
public enum KernelFeatures {
    public struct Answer: Equatable, Sendable {
        public var available: Bool
        /// Why, naming the module and the kernel option.
        public var why: String
    }

    /// A kernel module's answer: loaded, built in, or loadable. Looked up in the kernel's
    /// configuration (`/proc/config.gz`, else `/boot/config-RELEASE`), `/sys/module`, and the
    /// release's module tree.
    static func module(_ name: String, option: String) -> Answer {
        if FileManager.default.fileExists(atPath: "/sys/module/\(name)") { return Answer(available: true, why: "\(name) is loaded") }
        var release = utsname()
        uname(&release)
        let rel = withUnsafeBytes(of: &release.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let config = kernelConfig(release: rel)
        if let line = config?.split(separator: "\n").first(where: { $0.hasPrefix("\(option)=") || $0 == "# \(option) is not set" }) {
            if line.hasSuffix("=y") { return Answer(available: true, why: "\(name) is built into the kernel (\(option)=y)") }
            if line.hasSuffix("=m"), moduleFile(name, release: rel) {
                return Answer(available: true, why: "\(name) is a module (\(option)=m)")
            }
            if line.hasSuffix("=m") {
                return Answer(available: false, why: "\(name) is configured as a module (\(option)=m) but not installed for \(rel)")
            }
            return Answer(available: false, why: "\(name) is not in this kernel (\(option) is not set)")
        }
        if moduleFile(name, release: rel) { return Answer(available: true, why: "\(name) is installed as a module") }
        return Answer(
            available: false,
            why: "\(name) is not loaded and no module for it was found (\(option) unknown: no kernel configuration to read)")
    }

    static func kernelConfig(release: String) -> String? {
        if FileManager.default.fileExists(atPath: "/proc/config.gz") {
            let r = Spawner.run(.argv(["zcat", "/proc/config.gz"]), timeout: 5_000_000_000, outputLimit: 1 << 22)
            if r.status == 0 { return r.output }
        }
        return try? String(contentsOfFile: "/boot/config-\(release)", encoding: .utf8)
    }

    static func moduleFile(_ name: String, release: String) -> Bool {
        let dir = "/lib/modules/\(release)/kernel/net/sched"
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return files.contains { $0.hasPrefix("\(name).ko") }
    }

    /// The netem qdisc (sch_netem).
    public static var netem: Answer { module("sch_netem", option: "CONFIG_NET_SCH_NETEM") }
}
