import FaultlineCore

/// Expanded by naming it after the run and the fault (`TaggedWork`): one host, nothing to ask first.
extension MemoryDriver: FaultDriver {}
