import Foundation
import Testing
import TestSupport
@testable import MRD
@testable import Report

/// Chromium from Debian's packages (`make test` installs it when it can).
enum HeadlessChromium {
    static let path: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    static let skipMessage = "Chromium is not installed (apt-get install chromium): the report is not checked in a real browser"

    /// Runs headless Chromium on `arguments`, killing it after `timeout` seconds.
    static func run(_ arguments: [String], timeout: Double = 90) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path!)
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("flowmrd-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        // Root (CI) needs --no-sandbox; no network is ever needed, so any lookup fails fast.
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
                             "--user-data-dir=\(profile.path)", "--host-resolver-rules=MAP * ~NOTFOUND"] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = DispatchTime.now() + timeout
        DispatchQueue.global().asyncAfter(deadline: deadline) { if process.isRunning { process.terminate() } }
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}

@Suite("HTML report in headless Chromium", .enabled(if: HeadlessChromium.path != nil, Comment(rawValue: HeadlessChromium.skipMessage)))
struct BrowserTests {
    @Test("Chromium parses every plot, gate and section, and renders a full-size screenshot")
    func render() throws {
        let root = SharedMaterial.packageRoot
        let template = try GatingTemplate(path: root.appendingPathComponent("gating-templates/legend2-10color.yaml").path)
        let analysis = try MRDAnalyzer(template: template, workers: 2).analyzeWithPlots(path: root.appendingPathComponent("samples/positive.fcs").path)
        let directory = TemporaryDirectory()
        let html = directory.path("report.html"), png = directory.path("report.png")
        try HTMLReport.render(analysis).write(toFile: html, atomically: true, encoding: .utf8)

        // The DOM after parsing: what the browser built, not what we wrote.
        let dom = try HeadlessChromium.run(["--dump-dom", "file://\(html)"])
        #expect(dom.status == 0, "\(dom.stderr.suffix(2_000))")
        let structure = ReportStructure(dom.stdout)
        #expect(structure.figures.count == template.plots.count)
        #expect(structure.figures.map(\.title) == template.plots.map { HTML.escape($0.title) })
        // The red points are the counted clusters' restricted-chain events (the clonal excess is at most their number).
        let restricted = try #require(analysis.result.clonality).restrictedEvents
        #expect(structure.figures.compactMap { $0.attributes["data-aberrant"] }.allSatisfy { $0 == String(restricted) })
        for section in ["call", "identity", "populations", "plots", "qc", "gates", "warnings"] {
            #expect(dom.stdout.contains("<section id=\"\(section)\""), "\(section)")
        }
        #expect(dom.stdout.components(separatedBy: "<svg").count - 1 == template.plots.count + 1)  // plots + flow chart

        let shot = try HeadlessChromium.run(["--window-size=1360,2400", "--screenshot=\(png)", "file://\(html)"])
        #expect(shot.status == 0, "\(shot.stderr.suffix(2_000))")
        let image = try #require(FileManager.default.contents(atPath: png))
        // A PNG of the window's size (IHDR width and height, big-endian at bytes 16–23).
        #expect(image.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        let width = image[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = image[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 1360 && height == 2400)
        // A blank page compresses to a few KB; dot plots do not.
        #expect(image.count > 100_000, "\(image.count) bytes")
    }
}
