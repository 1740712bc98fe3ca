/// A command run at an offset (an action) or after revert (a rollback).
public struct ActionStep: Codable, Equatable, Sendable {
    public var name: String
    public var at: Nanos
    public var command: CommandSpec
    public var timeout: Nanos
    /// A lab host to run the command on (inside its namespaces); nil runs it where the runner is.
    public var on: String?

    public init(name: String, at: Nanos = 0, command: CommandSpec, timeout: Nanos = 30_000_000_000, on: String? = nil) {
        self.name = name
        self.at = at
        self.command = command
        self.timeout = timeout
        self.on = on
    }
}
