import Dispatch

/// `body(0) … body(count − 1)` on every core, in the order of the indices: the results do not
/// depend on how the work was shared, so a deterministic `body` gives a deterministic array.
/// - Complexity: O(count) calls of `body`, spread over the cores; one result slot per index.
func parallelMap<T>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    let slots = WorkerSlots<T?>(count: count, initial: nil)
    DispatchQueue.concurrentPerform(iterations: count) { i in
        let value = body(i)
        slots.update(i) { $0 = value }
    }
    return (0..<count).map { slots[$0]! }
}
