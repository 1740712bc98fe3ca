/// Why a fault could not be injected, confirmed or reverted.
public enum FaultError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The target could not be found or is ambiguous.
    case target(String)
    /// A safety rule forbids it.
    case refused(String)
    /// The kernel said no.
    case system(String)

    public var description: String {
        switch self {
        case .target(let s), .refused(let s), .system(let s): return s
        }
    }
}
