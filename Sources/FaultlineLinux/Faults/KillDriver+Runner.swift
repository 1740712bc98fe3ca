import FaultlineCore
import Glibc

extension KillDriver: FaultDriver {
    /// One per host of its target: a list of hosts is one fault, injected on all at once.
    public func expand(_ spec: KillFault, _ context: ExpansionContext) throws(FaultError) -> [KillFault] {
        spec.process.perHost(context.hosts).map { t in
            var one = spec
            one.process = t
            return one
        }
    }
}
