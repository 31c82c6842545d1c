import Dispatch
import EventCore
import Foundation

/// `body(0) … body(count − 1)` on at most `workers` threads at once, each taking the next
/// index as it finishes one; the results are in the order of the indices, so they do not
/// depend on how the work was shared, and a deterministic `body` gives a deterministic array.
/// One worker runs every index on the calling thread.
/// - Complexity: O(count) calls of `body`, spread over `workers` threads; one result slot per index.
func parallelMap<T>(_ count: Int, workers: Int = ProcessInfoCores.active, _ body: @Sendable (Int) -> T) -> [T] {
    let width = max(1, min(workers, count))
    if width == 1 { return (0..<count).map(body) }
    let slots = WorkerSlots<T?>(count: count, initial: nil)
    let next = IndexCounter()
    DispatchQueue.concurrentPerform(iterations: width) { _ in
        while let i = next.take(below: count) {
            let value = body(i)
            slots.update(i) { $0 = value }
        }
    }
    return (0..<count).map { slots[$0]! }
}

/// The next index to hand out, shared by the threads of ``parallelMap(_:workers:_:)``.
private final class IndexCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0

    /// The next index below `limit`, or nil when every one was taken.
    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < limit else { return nil }
        next += 1
        return next - 1
    }
}
