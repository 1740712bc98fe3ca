/// A command run at an offset (an action) or after revert (a rollback).
public struct ActionStep: Codable, Equatable, Sendable {
    public var name: String
    public var at: Nanos
    public var command: CommandSpec
    public var timeout: Nanos
    /// A lab host to run the command on (inside its namespaces); nil runs it where the runner is.
    public var on: String?
    /// Where the file wrote it (`actions[1]`), for messages; empty when not read from a file.
    public var path: String

    public init(
        name: String, at: Nanos = 0, command: CommandSpec, timeout: Nanos = 30_000_000_000, on: String? = nil, path: String = ""
    ) {
        self.name = name
        self.at = at
        self.command = command
        self.timeout = timeout
        self.on = on
        self.path = path
    }

    /// Where it was written is not part of what it is.
    public static func == (a: ActionStep, b: ActionStep) -> Bool {
        a.name == b.name && a.at == b.at && a.command == b.command && a.timeout == b.timeout && a.on == b.on
    }
}
