import EventCore
import Foundation
import Synchronization

/// Per-event classes of an analysis kept in memory: an ``EventResultsFormat`` for the
/// validation matrix, which compares each event's class with the synthetic file's label and
/// needs no audit file on disk (the membership bits are dropped).
///
/// One capture serves any number of analyses, each under its own `path` key: ``take(_:)``
/// hands back a finished analysis's classes and forgets them, so memory holds only the
/// analyses in flight (one byte per event each).
public final class EventClassCapture: EventResultsFormat {
    /// The classes of one analysis and their names, by code.
    public struct Classes: Sendable {
        public let codes: [UInt8]
        public let names: [String]
    }

    private let finished = Mutex<[String: Classes]>([:])

    public init() {}

    /// - Complexity: O(eventCount) for the buffer.
    public func create(path: String, eventCount: Int, gates: [String], classNames: [String]) throws -> any EventResultsWriting {
        Writer(path: path, eventCount: eventCount, names: classNames, membershipBytes: (gates.count + 7) / 8) { classes in
            self.finished.withLock { $0[path] = classes }
        }
    }

    /// The classes of the finished analysis written under `path`, removed from the capture;
    /// nil when none finished under that key.
    /// - Complexity: O(1).
    public func take(_ path: String) -> Classes? {
        finished.withLock { $0.removeValue(forKey: path) }
    }

    private final class Writer: EventResultsWriting, @unchecked Sendable {
        let path: String
        let membershipBytes: Int
        private let names: [String]
        private let lock = NSLock()
        private var codes: [UInt8]
        private let done: @Sendable (Classes) -> Void

        init(path: String, eventCount: Int, names: [String], membershipBytes: Int, done: @escaping @Sendable (Classes) -> Void) {
            self.path = path
            self.membershipBytes = membershipBytes
            self.names = names
            self.codes = [UInt8](repeating: 0, count: max(0, eventCount))
            self.done = done
        }

        func write(first: Int, classes: UnsafeBufferPointer<UInt8>, membership: UnsafeBufferPointer<UInt8>) throws {
            guard first >= 0, first + classes.count <= codes.count else {
                throw EventClassCaptureError(path: path, detail: "events \(first)..<\(first + classes.count) lie outside the \(codes.count) announced")
            }
            lock.withLock {
                codes.replaceSubrange(first ..< first + classes.count, with: classes)
            }
        }

        func setClass(_ code: UInt8, events: [Int]) throws {
            try lock.withLock {
                for e in events {
                    guard e >= 0, e < codes.count else {
                        throw EventClassCaptureError(path: path, detail: "event \(e) lies outside the \(codes.count) announced")
                    }
                    codes[e] = code
                }
            }
        }

        func finish(attributes: [(String, String)]) throws {
            done(lock.withLock { Classes(codes: codes, names: names) })
        }
    }
}

/// A capture given events outside the count it was created with.
public struct EventClassCaptureError: Error, CustomStringConvertible {
    public let path: String
    public let detail: String
    public var description: String { "\(path): per-event classes: \(detail)" }
}
