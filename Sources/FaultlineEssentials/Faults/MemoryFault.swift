/// `memory`: one worker process on `host` allocates `bytes` and touches every page, holding
/// them resident until the revert ends it; or, with `limit`, a `memory.max` / `memory.high` on
/// the cgroup of a target's processes, restored on revert.
public struct MemoryFault: Codable, Equatable, Sendable {
    public static let key = "memory"

    public var host: String
    /// What the worker allocates; 0 in the limit form.
    public var bytes: UInt64
    /// Names this fault's worker (`faultline_<run>_<index>`); set when the runner expands it.
    public var tag: String
    /// The limit form: the target's cgroup gets these limits instead of a worker running.
    public var limit: CgroupLimit?

    public init(host: String = "local", bytes: UInt64, tag: String = "", limit: CgroupLimit? = nil) {
        self.host = host
        self.bytes = bytes
        self.tag = tag
        self.limit = limit
    }
}
