import FaultlineCore

/// The runner names what the fault creates after the run and the fault (`faultline_<run>_<index>`),
/// so the ledger's undo can name it before it exists.
extension IODriver: FaultDriver {
    public func expand(_ spec: IOFault, _ context: ExpansionContext) throws(FaultError) -> [IOFault] {
        var w = spec
        w.tag = OwnedNames.table(runId: context.runId, faultIndex: context.faultIndex)
        return [w]
    }
}
