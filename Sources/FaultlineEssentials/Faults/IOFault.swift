/// `io`: `workers` processes on `host`, each rewriting its own 64 MiB file in the folder `path`
/// in 1 MiB writes, each followed by fsync; ended (and the files removed) on revert.
public struct IOFault: Codable, Equatable, Sendable {
    public static let key = "io"

    public var host: String
    public var path: String
    public var workers: Int
    /// Filling or loading the filesystem that holds the agent's state directory was asked for.
    public var allowStateFilesystem: Bool
    /// Names this fault's workers and their files (`faultline_<run>_<index>`); set when the
    /// runner expands it.
    public var tag: String
    /// The limit form: the target's cgroup gets an IO limit instead of writers running.
    public var limit: CgroupLimit?

    public init(
        host: String = "local", path: String, workers: Int = 1, allowStateFilesystem: Bool = false, tag: String = "",
        limit: CgroupLimit? = nil
    ) {
        self.limit = limit
        self.host = host
        self.path = path
        self.workers = workers
        self.allowStateFilesystem = allowStateFilesystem
        self.tag = tag
    }

    /// The file worker `index` rewrites.
    public func file(_ index: Int) -> String { "\(path.hasSuffix("/") ? String(path.dropLast()) : path)/\(tag)_\(index).fill" }
}
