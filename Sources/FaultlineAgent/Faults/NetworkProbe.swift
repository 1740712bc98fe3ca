import FaultlineEssentials
import Glibc

/// Round trips toward a network fault's first peer, as the faulted host sees them: TCP connects
/// to the filter's port (or to port 9, where a refusal answers as fast as an accept), timed from
/// the first packet to the answer. Only where the fault's filter lets TCP be measured.
struct NetworkProbe {
    let target: String
    private let host: String
    private let port: Int
    private let address: sockaddr_storage
    private let length: socklen_t

    init?(_ w: NetworkWork) {
        guard let peer = w.peers.first, w.filter.proto == .all || w.filter.proto == .tcp else { return nil }
        // A network's first host address stands for it (a /32 is the host itself).
        let host = peer.prefix == 32 ? peer.network : IPv4Address(peer.network.value + 1)
        let port = w.filter.port ?? 9
        guard let resolved = TCPConnect.resolve(host.description, port) else { return nil }
        target = "\(host):\(port)"
        (self.host, self.port) = (host.description, port)
        (address, length) = (resolved.0, resolved.1)
    }

    /// The median round trip of `n` connects that were answered (accepted or refused), in
    /// nanoseconds, and how many were; nil median when fewer than half were answered within
    /// `timeout` — the peer is silent (a host that drops SYNs, a firewall), and a median of
    /// timeouts would measure the timeout, not the network. The connects run at once, so
    /// confirming a 400 ms delay takes one round trip, not five.
    func medianRoundTrip(_ n: Int, timeout: Int64 = 1_000_000_000) -> (median: Double?, answered: Int) {
        let (address, length) = (self.address, self.length)
        let times = Parallel.map(Array(0..<n)) { _ -> Double? in
            var a = address
            let start = MonotonicClock.now()
            let (ok, why) = TCPConnect.connect(&a, length, family: AF_INET, timeout: timeout)
            let answered = ok || (why ?? "").contains(String(cString: strerror(ECONNREFUSED)))
            return answered ? Double(MonotonicClock.now() - start) : nil
        }
        let answered = times.compactMap { $0 }.sorted()
        return (answered.count * 2 > n ? answered[answered.count / 2] : nil, answered.count)
    }
}
