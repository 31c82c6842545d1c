import Foundation

/// A progress bar across many files on a terminal's standard error:
/// `[=========>          ] 3/7  sample.fcs`. Silent when standard error is not a terminal or
/// the command was given `--quiet`, so logs and pipes stay clean.
struct Progress {
    let enabled: Bool
    let total: Int

    init(enabled: Bool, total: Int) {
        self.enabled = enabled && isatty(2) != 0
        self.total = total
    }

    /// Shows that item `index` (0-based) is being worked on.
    func step(_ index: Int, _ message: String) {
        guard enabled else { return }
        let width = 24
        let done = total > 0 ? width * index / total : 0
        let bar = String(repeating: "=", count: done) + (done < width ? ">" : "") + String(repeating: " ", count: max(0, width - done - 1))
        FileHandle.standardError.write(Data("\r\u{1B}[K[\(bar)] \(index + 1)/\(total)  \(message)".utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
