import FaultlineCore
import Glibc

extension ProxyDriver: FaultDriver {
    public func expand(_ spec: ProxyFault, _ context: ExpansionContext) throws(FaultError) -> [ProxyWork] {
        let names = spec.toxics.enumerated().map { i, t in "faultline-\(context.faultIndex)-\(i)-\(t.type)" }
        return [
            ProxyWork(
                host: context.hosts.proxies[spec.proxy] ?? "local", proxy: spec.proxy, toxics: spec.toxics, names: names, down: spec.down)
        ]
    }
}
