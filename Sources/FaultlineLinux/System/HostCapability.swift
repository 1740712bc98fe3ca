import FaultlineCore
import Foundation

/// What an agent answers when the runner asks, before anything is injected, whether its host can
/// take a fault: a kernel feature, or the state of a device a fault would shape. Each answer is
/// "yes: why" or "no: why", the why naming what was found.
enum HostCapability {
    /// The names an agent answers: `netem`, `device D` (it exists), `root D` (its root qdisc is
    /// the kernel's own, so faultline may add one), `ingress D` (no ingress qdisc yet).
    static func answer(_ name: String) -> String? {
        let words = name.split(separator: " ").map(String.init)
        switch (words.first, words.count) {
        case ("netem", 1):
            let a = KernelFeatures.netem
            return "\(a.available ? "yes" : "no"): \(a.why)"
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
}
