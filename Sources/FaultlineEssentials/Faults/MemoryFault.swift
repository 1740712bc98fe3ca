/// `memory`: one worker process on `host` allocates `bytes` and touches every page, holding
/// them resident until the revert ends it.
public struct MemoryFault: Codable, Equatable, Sendable {
    public static let key = "memory"

    public var host: String
    public var bytes: UInt64
    /// Names this fault's worker (`faultline_<run>_<index>`); set when the runner expands it.
    public var tag: String

    public init(host: String = "local", bytes: UInt64, tag: String = "") {
        self.host = host
        self.bytes = bytes
        self.tag = tag
    }
}
