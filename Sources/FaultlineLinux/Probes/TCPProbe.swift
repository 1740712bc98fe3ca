import FaultlineCore
import Glibc

/// Succeeds when a TCP connection to the address completes within the timeout.
final class TCPProbe: Probe {
    let spec: ProbeSpec.TCP
    private var address: (storage: sockaddr_storage, length: socklen_t, family: Int32)?

    init(_ spec: ProbeSpec.TCP) {
        self.spec = spec
        address = TCPConnect.resolve(spec.host, spec.port)
    }

    func sample() -> ProbeSample {
        Probes.timed {
            if address == nil { address = TCPConnect.resolve(spec.host, spec.port) }
            guard var a = address else { return (false, "cannot resolve '\(spec.host)'") }
            return TCPConnect.connect(&a.storage, a.length, family: a.family, timeout: spec.timeout)
        }
    }
}
