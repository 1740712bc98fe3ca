import FaultlineCore
import Glibc

extension PauseDriver: FaultDriver {
    /// One per host of its target: a list of hosts is one fault, injected on all at once.
    public func expand(_ spec: PauseFault, _ context: ExpansionContext) throws(FaultError) -> [PauseFault] {
        spec.process.perHost(context.hosts).map { t in
            var one = spec
            one.process = t
            return one
        }
    }
}
