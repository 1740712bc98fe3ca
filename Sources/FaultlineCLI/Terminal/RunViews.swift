import FaultlineCore
import FaultlineLinux

/// A run's events as plain lines, `+   1.25s inject kill-web: SIGKILL to …`: what CI logs and
/// pipes get.
class PlainRunView: RunObserver, @unchecked Sendable {
    let console: Console

    init(console: Console) { self.console = console }

    var wantsProgress: Bool { false }

    func observe(_ event: RunEvent) {
        switch event.kind {
        case .interruptedAgain: console.error("faultline: interrupted again; still reverting, please wait")
        case .progress: break
        default:
            guard let (what, detail) = event.text else { return }
            let at = DurationText.format(event.at)
            // Names come from the file, details from the system under test: shown, never obeyed.
            let text = ShownText.controlsEscaped("\(what)\(detail.map { ": \($0)" } ?? "")")
            console.line("+\(String(repeating: " ", count: max(0, 7 - at.count)))\(at) \(text)")
        }
    }
}

/// The plain lines, and a progress line redrawn in place while the faults hold: for a terminal.
final class LiveRunView: PlainRunView, @unchecked Sendable {
    override var wantsProgress: Bool { !console.quiet }

    override func observe(_ event: RunEvent) {
        guard case .progress(let p) = event.kind else { return super.observe(event) }
        let probes = p.probes.map { probe in
            let state = probe.up.map { $0 ? "up" : console.style("DOWN", "red") } ?? "-"
            return "\(ShownText.controlsEscaped(probe.name)) \(state) (\(probe.failed) of \(probe.total) samples failed)"
        }
        console.progress(
            "[\(DurationText.format(p.elapsed)) / \(DurationText.format(p.duration))] \(p.held) fault(s) held · \(probes.joined(separator: " · "))"
        )
    }
}
