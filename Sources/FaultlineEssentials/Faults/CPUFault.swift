/// `cpu`: `workers` processes on `host`, each busy for `load` of every 100 ms; ended on revert.
/// Or, with `limit`, a `cpu.max` throttle on the cgroup of a target's processes.
public struct CPUFault: Codable, Equatable, Sendable {
    public static let key = "cpu"

    public var host: String
    public var workers: Int
    /// The share of each 100 ms a worker spins, 0 < load ≤ 1.
    public var load: Double
    /// Names this fault's workers (`faultline_<run>_<index>`); set when the runner expands it.
    public var tag: String
    /// The limit form: the target's cgroup gets this quota instead of workers running.
    public var limit: CgroupLimit?

    public init(host: String = "local", workers: Int = 1, load: Double = 1, tag: String = "", limit: CgroupLimit? = nil) {
        self.limit = limit
        self.host = host
        self.workers = workers
        self.load = load
        self.tag = tag
    }
}
