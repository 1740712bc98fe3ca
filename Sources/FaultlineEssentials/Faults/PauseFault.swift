/// `pause`: SIGSTOP processes for `duration`, SIGCONT on revert; confirmed by state `T`.
public struct PauseFault: Codable, Equatable, Sendable {
    public static let key = "pause"

    public var process: ProcessTarget

    public init(_ process: ProcessTarget) { self.process = process }

}
