import FaultlineCore

/// The runner gives the work its host's control file (the lab's data directory is the runner's
/// to know; the agent inside the host sees the same path).
extension ClockDriver: FaultDriver {
    public func expand(_ spec: ClockFault, _ context: ExpansionContext) throws(FaultError) -> [ClockFault] {
        if spec.system == true { return [spec] }
        guard let file = context.hosts.clockFiles[spec.host] else {
            throw FaultError.refused("host '\(spec.host)' runs no service under libfaketime ('clock: faketime' in the lab file)")
        }
        var w = spec
        w.file = file
        return [w]
    }
}
