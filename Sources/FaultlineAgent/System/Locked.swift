import FoundationEssentials

/// A value behind a lock, for state shared between threads.
public final class Locked<Value>: @unchecked Sendable {
    private let lock = Lock()
    private var stored: Value
    public init(_ value: Value) { stored = value }
    public var value: Value {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
    @discardableResult
    public func mutate<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&stored)
    }
}
