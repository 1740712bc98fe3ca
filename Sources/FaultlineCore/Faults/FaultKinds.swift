import Yams

/// Reading a kind's fields from its mapping; internal, because the node reader is.
protocol FaultKindReader: FaultKind {
    /// Reads the kind's body at `path` (`faults[2].kill`); `nil` once a problem is reported.
    static func read(_ node: Node, path: String, reader: NodeReader) -> Self?
}

/// The registry of fault kinds: the one list of them in FaultlineCore.
public enum FaultKinds {
    static let registered: [any FaultKindReader.Type] = [
        KillFault.self,
        PauseFault.self,
        PartitionFault.self,
        NetworkFault.self,
        ProxyFault.self,
        CPUFault.self,
        MemoryFault.self,
        DiskFillFault.self,
        IOFault.self,
        ClockFault.self,
    ]

    /// Every kind, in the order `list-faults` shows them.
    public static var all: [any FaultKind.Type] { registered }

    /// The keys experiment files may name.
    public static var keys: [String] { registered.map { $0.key } }

    static func reader(for key: String) -> (any FaultKindReader.Type)? { registered.first { $0.key == key } }

    /// The type for a key, for decoding.
    public static func type(for key: String) -> (any FaultKind.Type)? { reader(for: key) }
}
