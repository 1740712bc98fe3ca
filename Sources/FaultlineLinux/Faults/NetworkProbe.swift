import FaultlineCore
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
        guard let resolved = TCPProbe.resolve(host.description, port) else { return nil }
        target = "\(host):\(port)"
        (self.host, self.port) = (host.description, port)
        (address, length) = (resolved.0, resolved.1)
    }

    /// How many of `n` connects, started at once, got no answer within `timeout`.
    func unanswered(_ n: Int, timeout: Int64) -> Int {
        TCPProbe.answers([String](repeating: host, count: n), port: port, timeout: timeout).filter { !$0 }.count
    }

    /// The median of `n` connects' round trips, nanoseconds (a connect that times out counts as
    /// its 1 s timeout). The connects run at once, so confirming a 400 ms delay takes one round
    /// trip, not five.
    func medianRoundTrip(_ n: Int) -> Double {
        let (address, length) = (self.address, self.length)
        let times = Parallel.map(Array(0..<n)) { _ in
            var a = address
            let start = MonotonicClock.now()
            _ = TCPProbe.connect(&a, length, family: AF_INET, timeout: 1_000_000_000)
            return Double(MonotonicClock.now() - start)
        }
        return times.sorted()[times.count / 2]
    }
}
