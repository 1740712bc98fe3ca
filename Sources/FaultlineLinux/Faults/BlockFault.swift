import FaultlineCore
import Foundation
import Glibc

/// One host's part of a partition: an nft table (family inet, named after the run) whose input
/// hook drops packets from the given addresses. Runs in the agent, so in the host's namespace.
///
/// Confirmed by TCP connects to port 9: a dropped peer's answer never arrives (the connect times
/// out), while a reachable peer answers at once — with a refusal if nothing listens there.
public struct BlockFault: FaultDriver {
    public init() {}
    static let confirmConnectTimeout: Int64 = 150_000_000

    /// `faultline_` then 1 to 40 of [A-Za-z0-9_]. Checked by hand: a regular expression would
    /// load ICU and compile the pattern on the way to injecting the fault.
    static func isFaultlineTable(_ name: String) -> Bool {
        guard name.hasPrefix("faultline_") else { return false }
        let rest = name.utf8.dropFirst("faultline_".utf8.count)
        return (1...40).contains(rest.count)
            && rest.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 }
    }

    public func prepare(_ spec: FaultSpec) throws(FaultError) -> Injection {
        guard case .block(let b) = spec else { throw FaultError.refused("block driver given a '\(spec.kind)' fault") }
        guard Self.isFaultlineTable(b.table) else {
            throw FaultError.refused("nft table name '\(b.table)' is not a faultline table")
        }
        for a in b.from + b.reachable where IPv4Address(a) == nil { throw FaultError.target("'\(a)' is not an IPv4 address") }
        return Injection(
            spec: spec, targets: [], undo: [.nftDeleteTable(b.table)],
            summary: "nft table \(b.table) drops packets from \(b.from.joined(separator: ", "))")
    }

    public func apply(_ injection: Injection) throws(FaultError) {
        guard case .block(let b) = injection.spec else { return }
        let script = """
            add table inet \(b.table); \
            add chain inet \(b.table) input { type filter hook input priority -10; policy accept; }; \
            add rule inet \(b.table) input ip saddr { \(b.from.joined(separator: ", ")) } drop
            """
        let r = Spawner.run(.argv(["nft", script]), timeout: 10_000_000_000)
        guard r.status == 0 else { throw FaultError.system("nft: \(r.error ?? r.output.trimmingCharacters(in: .whitespacesAndNewlines))") }
    }

    public func confirm(_ injection: Injection, deadline: Int64) -> Confirmation {
        guard case .block(let b) = injection.spec else { return Confirmation(ok: false, detail: "not a block", at: nil) }
        while true {
            let (cut, open) = Self.check(b)
            let now = MonotonicClock.now()
            if cut.count == b.from.count, open.count == b.reachable.count {
                return Confirmation(
                    ok: true,
                    detail:
                        "cut from \(cut.joined(separator: ", ")); still reaches \(open.isEmpty ? "no other host" : open.joined(separator: ", "))",
                    at: now)
            }
            if now > deadline {
                let notCut = b.from.filter { !cut.contains($0) }
                let notOpen = b.reachable.filter { !open.contains($0) }
                return Confirmation(ok: false, detail: "not cut from \(notCut); unreachable though not cut: \(notOpen)", at: nil)
            }
        }
    }

    /// Which blocked addresses are cut and which reachable ones answer, all probed at once
    /// (a cut peer costs a whole connect timeout).
    static func check(_ b: BlockSpec) -> (cut: [String], open: [String]) {
        let answered = reachable(b.from + b.reachable)
        return (b.from.filter { !answered.contains($0) }, b.reachable.filter { answered.contains($0) })
    }

    /// The addresses that answer a connect to port 9, all probed at once.
    static func reachable(_ addresses: [String]) -> Set<String> {
        TCPProbe.answering(addresses, port: 9, timeout: confirmConnectTimeout)
    }

    /// True when a TCP connect to port 9 gets any answer (accepted or refused) in time.
    static func answers(_ address: String) -> Bool {
        guard var a = TCPProbe.resolve(address, 9) else { return false }
        let (ok, reason) = TCPProbe.connect(&a.0, a.1, family: a.2, timeout: confirmConnectTimeout)
        return ok || (reason?.contains("refused") ?? false)
    }
}
