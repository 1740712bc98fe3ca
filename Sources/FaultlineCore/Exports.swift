// The values and fault data the experiment format reads into are FaultlineEssentials'.
@_exported import FaultlineEssentials
