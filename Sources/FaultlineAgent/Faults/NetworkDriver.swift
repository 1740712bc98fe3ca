import FaultlineEssentials
import FoundationEssentials
import Glibc

/// One host's network fault, as its agent receives it: the device, the peers as networks, the
/// shaping and the engine chosen for that host, and the names of the objects it will own.
public struct NetworkWork: FaultWork {
    public static let key = "network"
    public var host: String
    public var device: String
    public var peers: [IPv4Subnet]
    public var filter: PacketFilter
    public var shaping: Shaping
    public var engine: NetworkFault.Engine
    /// The nft table (queue engine) and the IFB (ingress rate), named after the run and fault.
    public var table: String
    public var ifb: String
    public var queueBase: UInt16
    public var seed: UInt64

    public init(
        host: String, device: String, peers: [IPv4Subnet], filter: PacketFilter, shaping: Shaping, engine: NetworkFault.Engine,
        table: String, ifb: String, queueBase: UInt16, seed: UInt64
    ) {
        self.host = host
        self.device = device
        self.peers = peers
        self.filter = filter
        self.shaping = shaping
        self.engine = engine
        self.table = table
        self.ifb = ifb
        self.queueBase = queueBase
        self.seed = seed
    }
}

/// The `network` fault: netem through libnl where the host has sch_netem, else the queue engine
/// (an NFQUEUE in faultline's own nft table, a delay line in the agent); a rate with either is an
/// HTB class (on an IFB for ingress). An existing root qdisc faultline did not add is never
/// replaced or deleted: the fault is refused, naming it.
public struct NetworkDriver: FaultEffect {
    public init() {}

    public func prepare(_ w: NetworkWork) throws(FaultError) -> Injection {
        guard TrafficControl.index(w.device) != nil else { throw FaultError.target("host '\(w.host)' has no device '\(w.device)'") }
        guard UndoStep.isFaultlineTable(w.table) else { throw FaultError.refused("nft table name '\(w.table)' is not a faultline table") }
        let ingress = w.filter.direction != .egress
        let egress = w.filter.direction != .ingress
        // Only what goes out passes the device's root qdisc; what comes in is shaped on an IFB.
        let shapesRoot = egress && (w.engine == .netem || w.shaping.rate != nil)
        if shapesRoot { try Self.foreignRoot(w.device) }
        var undo: [UndoStep] = []
        var what: [String] = []
        switch w.engine {
        case .netem:
            if egress {
                undo.append(
                    .qdiscDelete(device: w.device, parent: TrafficControl.root, handle: TrafficControl.handle(TrafficControl.major, 0)))
                what.append("netem under an htb root fa17: on \(w.device)")
            }
        default:
            if w.shaping.needsDelayLine {
                undo += [.nftDelete(family: "ip", table: w.table), .stopQueueEngine(table: w.table)]
                what.append("nft table ip \(w.table) (NFQUEUE to the delay line)")
            }
            if w.shaping.rate != nil, egress {
                undo.append(
                    .qdiscDelete(device: w.device, parent: TrafficControl.root, handle: TrafficControl.handle(TrafficControl.major, 0)))
                what.append("htb rate fa17: on \(w.device)")
            }
        }
        if ingress, w.shaping.rate != nil || w.engine == .netem {
            try Self.ingressFree(w.device)
            undo += [
                .qdiscDelete(device: w.device, parent: TrafficControl.ingressParent, handle: TrafficControl.ingressHandle),
                .linkDelete(w.ifb),
            ]
            what.append("ingress of \(w.device) redirected to \(w.ifb), shaped there")
        }
        var injection = Injection(
            undo: undo,
            summary: "\(w.engine.rawValue) engine: \(w.shaping.summary) for \(w.filter.summary); \(what.joined(separator: ", "))")
        if w.shaping.delay > 0, let probe = NetworkProbe(w) {
            // No median: the peer did not answer before the fault, and confirm says so.
            injection.baseline["rtt"] = probe.medianRoundTrip(5).median ?? -1
        }
        return injection
    }

    /// Probe packets a loss is confirmed with: small ones (a TCP ACK, a UDP byte, an ICMP echo)
    /// that the fault's own counters count; a thousand make 1 % loss tell from none.
    static let lossProbes = 1_000

    /// Refuses a device whose root qdisc or ingress qdisc someone else added.
    static func foreignRoot(_ device: String) throws(FaultError) {
        if let why = TrafficControl.foreignRoot(device) { throw FaultError.refused(why) }
    }

    static func ingressFree(_ device: String) throws(FaultError) {
        if let why = TrafficControl.foreignIngress(device) { throw FaultError.refused(why) }
    }

    public func apply(_ w: NetworkWork, _ injection: Injection) throws(FaultError) {
        do {
            try NetworkEngines.start(w)
        } catch let e as FaultError {
            throw e
        } catch {
            throw FaultError.system("\(error)")
        }
    }

    /// What the fault claims, measured end to end from the faulted host toward its first peer
    /// (TCP connects, as the fault's filter sees them): the delay against the baseline taken
    /// before, the loss as the share of connects left unanswered. Other effects are confirmed
    /// by their mechanism being in place.
    public func confirm(_ w: NetworkWork, _ injection: Injection, deadline: Int64) -> Confirmation {
        var details: [String] = []
        if w.shaping.delay > 0, let base = injection.baseline["rtt"], let probe = NetworkProbe(w) {
            switch confirmDelay(w, base: base, probe: probe, deadline: deadline) {
            case .success(let d): details.append(d)
            case .failure(let d): return Confirmation(ok: false, detail: d.text, at: nil)
            }
        }
        if let loss = w.shaping.loss {
            switch confirmLoss(w, loss, deadline: deadline) {
            case .success(let d): details.append(d)
            case .failure(let d): return Confirmation(ok: false, detail: d.text, at: nil)
            }
        }
        if details.isEmpty { details.append("in place: \(injection.summary)") }
        return Confirmation(ok: true, detail: details.joined(separator: "; "), at: MonotonicClock.now())
    }

    struct Unconfirmed: Error { var text: String }

    func confirmDelay(_ w: NetworkWork, base: Double, probe: NetworkProbe, deadline: Int64) -> Result<String, Unconfirmed> {
        guard base >= 0 else {
            return .success(
                "delay \(DurationText.format(w.shaping.delay)) in place; not measured: \(probe.target) did not answer TCP connects before the fault (none accepted or refused within 1s), so there is no round trip to add to"
            )
        }
        // Room for the delay itself, and its jitter, on top of the connect's own second.
        let timeout = 1_000_000_000 + w.shaping.delay + 4 * w.shaping.jitter
        while true {
            let (median, answered) = probe.medianRoundTrip(5, timeout: timeout)
            guard let rtt = median else {
                if MonotonicClock.now() > deadline {
                    return .failure(
                        Unconfirmed(
                            text:
                                "delay \(DurationText.format(w.shaping.delay)) asked, but \(probe.target), which answered before the fault, answered \(answered) of 5 connects within \(DurationText.format(timeout)) after it"
                        ))
                }
                continue
            }
            let added = rtt - base
            if added >= 0.5 * Double(w.shaping.delay) {
                return .success(
                    "delay \(DurationText.format(w.shaping.delay)) asked, \(DurationText.format(Nanos(added))) added to the round trip measured toward \(probe.target)"
                )
            }
            if MonotonicClock.now() > deadline {
                return .failure(
                    Unconfirmed(
                        text:
                            "delay \(DurationText.format(w.shaping.delay)) asked, but only \(DurationText.format(Nanos(max(0, added)))) added to the round trip toward \(probe.target)"
                    ))
            }
        }
    }

    /// Loss, confirmed by the mechanism's own counters — the packets the delay line (or netem)
    /// was handed and dropped — while probe packets that match the fault's filter go toward its
    /// first peer: no connect burst at the peer's service, and no answer needed from it. Without
    /// a peer or a probe that the filter matches (a UDP or ICMP filter on ingress), the
    /// mechanism in place confirms it, and the revert's `measured` gives the share dropped.
    func confirmLoss(_ w: NetworkWork, _ loss: Shaping.Loss, deadline: Int64) -> Result<String, Unconfirmed> {
        let outgoing = w.filter.direction != .ingress
        let answered = w.filter.proto == .tcp || w.filter.proto == .all || w.filter.proto == .icmp
        guard let probe = ProbePackets(w), outgoing || answered, let counts = NetworkEngines.lossCounters(w) else {
            return .success("loss in place by its mechanism (no probe its filter would count: measured at revert)")
        }
        while true {
            let before = counts()
            let sent = probe.send(Self.lossProbes)
            // Decisions are taken as packets arrive; the peer's answers (ingress) take a round trip.
            MonotonicClock.sleep(until: MonotonicClock.now() + 20_000_000 + (outgoing ? 0 : w.shaping.delay + 4 * w.shaping.jitter))
            let after = counts()
            let seen = after.packets - before.packets
            let dropped = after.dropped - before.dropped
            let what =
                "of \(seen) packets the \(w.engine == .netem ? "netem qdisc" : "delay line") was handed while \(sent) probes went toward \(probe.target)"
            switch LossSample.judge(loss, handled: seen, dropped: dropped, what: what) {
            case .seen(let t), .tooSmall(let t): return .success(t)
            case .absent(let t):
                if MonotonicClock.now() + 200_000_000 > deadline { return .failure(Unconfirmed(text: t)) }
            }
        }
    }

    /// The delay line's own account (held, dropped, lateness), or the shaper's bytes.
    public func measure(_ w: NetworkWork, _ injection: Injection) -> String? {
        NetworkEngines.report(w)
    }
}
