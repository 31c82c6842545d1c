import Foundation
import Testing

/// The package's shape as the guide asks for it: an event core that names no format, adapters
/// beside it, and analysis targets that depend on the core rather than on a storage format.
/// Read from Package.swift and the sources (the manifest is ours, so a plain reading suffices).
@Suite("Architecture")
struct ArchitectureTests {
    static let root = FlowMRDBinary.packageRoot

    /// Each `.target(name:…, dependencies: […])` of the manifest: name → the target names it depends on.
    static func targets() throws -> [String: [String]] {
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        var result: [String: [String]] = [:]
        let pattern = try NSRegularExpression(pattern: #"\.(?:target|executableTarget|testTarget|systemLibrary)\(\s*name:\s*"([^"]+)"(?:[^\[\)]*dependencies:\s*\[([^\]]*)\])?"#)
        let range = NSRange(manifest.startIndex..., in: manifest)
        for match in pattern.matches(in: manifest, range: range) {
            let name = String(manifest[Range(match.range(at: 1), in: manifest)!])
            var dependencies: [String] = []
            if let list = Range(match.range(at: 2), in: manifest) {
                let quoted = try NSRegularExpression(pattern: #"^\s*"([^"]+)""#, options: .anchorsMatchLines)
                let text = String(manifest[list]).replacingOccurrences(of: ",", with: "\n")
                for item in quoted.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    dependencies.append(String(text[Range(item.range(at: 1), in: text)!]))
                }
            }
            result[name] = dependencies
        }
        return result
    }

    @Test("the event core depends on nothing; FCS and Cytometry on the core and the C kernels alone; no analysis target on HDF5Store")
    func dependencies() throws {
        let targets = try Self.targets()
        #expect(targets["EventCore"] == [])
        // FCS's float32 decoder has an AVX2 kernel in CKernels, the C target of kernels that depends on nothing.
        #expect(targets["FCS"] == ["EventCore", "CKernels"])
        #expect(targets["Cytometry"] == ["EventCore", "CKernels"])
        #expect(targets["CKernels"] == [])
        for name in ["MRD", "Report", "Synthetic", "Cytometry"] {
            let dependencies = try #require(targets[name], "\(name) is not in Package.swift")
            #expect(dependencies.contains("EventCore"), "\(name) should depend on the event core")
            #expect(!dependencies.contains("HDF5Store"), "\(name) must not depend on HDF5Store")
        }
        #expect(!(targets["Report"] ?? []).contains("FCS"))
    }

    @Test("the event core's code names no concrete format type; Cytometry and Report import no format")
    func coreNamesNoFormat() throws {
        let manager = FileManager.default
        let core = Self.root.appendingPathComponent("Sources/EventCore")
        let files = try manager.contentsOfDirectory(atPath: core.path).filter { $0.hasSuffix(".swift") }
        #expect(files.count >= 8)
        let formatType = try NSRegularExpression(pattern: #"\b(FCS|HDF5)[A-Z][A-Za-z]*\b"#)
        for file in files {
            let text = try String(contentsOf: core.appendingPathComponent(file), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.components(separatedBy: "//").first ?? ""
                let hits = formatType.matches(in: code, range: NSRange(code.startIndex..., in: code))
                #expect(hits.isEmpty, "EventCore/\(file):\(number + 1) names a format type: \(line)")
            }
        }
        for target in ["Cytometry", "Report"] {
            let folder = Self.root.appendingPathComponent("Sources/\(target)")
            for file in try manager.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".swift") {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                #expect(!text.contains("import FCS\n") && !text.contains("import HDF5Store"), "\(target)/\(file) imports a format adapter")
            }
        }
    }
}
