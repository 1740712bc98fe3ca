/// `disk_fill`: a file in the folder `path` on `host` sized so that its filesystem has only
/// `leave` free; removed on revert.
public struct DiskFillFault: Codable, Equatable, Sendable {
    public static let key = "disk_fill"

    public enum Leave: Codable, Equatable, Sendable {
        case bytes(UInt64)
        /// A share of the filesystem's size.
        case share(Double)
    }

    public var host: String
    public var path: String
    public var leave: Leave
    /// Filling the filesystem that holds the agent's state directory (its ledger) was asked for.
    public var allowStateFilesystem: Bool
    /// Names the fill file (`faultline_<run>_<index>.fill`); set when the runner expands it.
    public var tag: String

    public init(host: String = "local", path: String, leave: Leave, allowStateFilesystem: Bool = false, tag: String = "") {
        self.host = host
        self.path = path
        self.leave = leave
        self.allowStateFilesystem = allowStateFilesystem
        self.tag = tag
    }
}
