import Dispatch
import FoundationEssentials

/// Runs work items on one thread each and waits for all: for work that waits (on pipes, on
/// the network) rather than computes, where a core-sized pool would serialise it.
package enum Parallel {
    static func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        if count == 1 { return body(0) }
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            PThread {
                body(i)
                group.leave()
            }.start()
        }
        group.wait()
    }

    /// `body` for each element, at most `limit` at a time; the results in the elements' order.
    /// `limit` threads each take the next element when done with one, so one slow element
    /// holds up no others (not waves of `limit`, each as slow as its slowest).
    package static func map<T: Sendable, R: Sendable>(_ items: [T], limit: Int, _ body: @escaping @Sendable (T) -> R) -> [R] {
        let workers = min(items.count, max(1, limit))
        if workers == items.count { return map(items, body) }
        let results = Locked([R?](repeating: nil, count: items.count))
        let next = Locked(0)
        run(workers) { _ in
            while true {
                let i = next.mutate { n -> Int in
                    defer { n += 1 }
                    return n
                }
                guard i < items.count else { return }
                let r = body(items[i])
                results.mutate { $0[i] = r }
            }
        }
        return results.value.compactMap { $0 }
    }

    /// `body` for each element, at once; the results in the elements' order.
    package static func map<T: Sendable, R: Sendable>(_ items: [T], _ body: @escaping @Sendable (T) -> R) -> [R] {
        let results = Locked([R?](repeating: nil, count: items.count))
        run(items.count) { i in
            let r = body(items[i])
            results.mutate { $0[i] = r }
        }
        return results.value.compactMap { $0 }
    }
}

/// A value handed to `Parallel`'s threads that is not Sendable but only read there (the
/// runner, when its roles are resolved at once): the caller vouches for it.
package struct Unchecked<T>: @unchecked Sendable {
    package let value: T

    package init(value: T) { self.value = value }
}
