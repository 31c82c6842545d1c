import Foundation
import Testing
@testable import MRD

/// The clustering stage's parallel helper: results in index order whatever the sharing, and
/// never more threads at once than the workers it was given (`--workers` reaches the
/// clustering and the subset search, not only the full pass).
@Suite("parallelMap and its workers")
struct ParallelMapTests {
    /// Calls running at once, and the most seen.
    final class Concurrency: @unchecked Sendable {
        private let lock = NSLock()
        private var now = 0
        private(set) var most = 0
        private(set) var threads: Set<pthread_t> = []
        func enter() {
            lock.lock()
            now += 1
            most = max(most, now)
            threads.insert(pthread_self())
            lock.unlock()
        }
        func leave() { lock.lock(); now -= 1; lock.unlock() }
    }

    @Test("results in index order, and at most `workers` calls at once", arguments: [1, 2, 3])
    func orderAndWidth(workers: Int) {
        let seen = Concurrency()
        let values = parallelMap(64, workers: workers) { i -> Int in
            seen.enter()
            defer { seen.leave() }
            usleep(2_000)   // long enough for the other threads to start their own calls
            return i * i
        }
        #expect(values == (0..<64).map { $0 * $0 })
        #expect(seen.most <= workers)
        #expect(seen.most >= 1)
    }

    @Test("one worker runs every call on the calling thread")
    func oneWorkerStaysOnTheCaller() {
        let seen = Concurrency()
        let caller = pthread_self()
        _ = parallelMap(20, workers: 1) { i -> Int in
            seen.enter()
            defer { seen.leave() }
            return i
        }
        #expect(seen.threads == [caller])
        #expect(parallelMap(0, workers: 4) { $0 }.isEmpty)
    }
}
