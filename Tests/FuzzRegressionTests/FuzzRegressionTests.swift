import Cytometry
import FCS
import HDF5Store
import Foundation
import Testing
import TestSupport
@testable import FuzzTargets

/// Every input that once crashed a fuzz target (Tests/FuzzRegressions/TARGET/) runs through
/// the same entry point again; a crash would end the test process, failing the suite. Inputs
/// with a known cause also assert the typed error that replaced the crash.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    static let root = SharedMaterial.packageRoot.appendingPathComponent("Tests/FuzzRegressions")

    static func inputs() -> [String] {
        var paths: [String] = []
        for target in FuzzTarget.allCases {
            let folder = root.appendingPathComponent(target.rawValue).path
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() { paths.append("\(target.rawValue)/\(name)") }
        }
        return paths
    }

    @Test("each saved input runs to a normal end", arguments: inputs())
    func replay(_ input: String) throws {
        let target = try #require(FuzzTarget(rawValue: String(input.prefix { $0 != "/" })))
        let data = try #require(FileManager.default.contents(atPath: Self.root.appendingPathComponent(input).path))
        target.run(Array(data))
    }

    @Test("Gating-ML that is not UTF-8 is a typed error naming the byte and line (FoundationXML trapped on it)")
    func invalidUTF8() throws {
        let path = Self.root.appendingPathComponent("gatingml/invalid-utf8-element-name.xml").path
        #expect { try GatingMLImport.read(path: path) } throws: { error in
            "\(error)" == "\(path):31: malformed XML: byte 1294 is not valid UTF-8 (Gating-ML files must be UTF-8)"
        }
    }

    @Test("a processing instruction without data (FoundationXML crashed on it) is read as XML allows; the document's own error is reported")
    func emptyProcessingInstruction() throws {
        let path = Self.root.appendingPathComponent("gatingml/empty-processing-instruction.xml").path
        #expect { try GatingMLImport.read(path: path) } throws: { error in
            "\(error)" == "\(path):4: malformed XML: attribute te has no ="
        }
        // A valid document with one still imports, gate for gate.
        let document = """
        <?xml version="1.0" encoding="UTF-8"?>
        <?empty?>
        <gating:Gating-ML xmlns:gating="http://www.isac-net.org/std/Gating-ML/v2.0/gating" xmlns:data-type="http://www.isac-net.org/std/Gating-ML/v2.0/datatypes">
          <?also-empty ?>
          <gating:RectangleGate gating:id="R1">
            <gating:dimension gating:compensation-ref="uncompensated" gating:min="1" gating:max="5"><data-type:fcs-dimension data-type:name="FL1-H"/></gating:dimension>
          </gating:RectangleGate>
        </gating:Gating-ML>
        """
        let tree = try GatingMLImport.read(data: Data(document.utf8), file: "pi.xml")
        #expect(tree.gates.map(\.id) == ["R1"])
    }

    /// HDF5 inputs that once crashed or exhausted memory, and the typed error each gives now.
    static let hdf5Findings: [(input: String, error: String)] = [
        // H5Fopen allocated 4 GB for it: the superblock is checked with pread first.
        ("superblock-4gb-realloc.h5", "check superblock failed: the superblock needs 96 bytes from byte 0; the file ends after 49"),
        // libhdf5 mallocs a 3 GB continuation chunk before checking it against the file (untouched):
        // the allocation fails under the checking process's address-space cap, and the file is refused.
        ("continuation-3gb-malloc.h5", "check in a separate process failed: libhdf5 needed more than 512 MB of memory reading the file's metadata: sizes in the file are malformed, and the file was not opened"),
        // libhdf5's metadata cache asks for 2⁴⁸ bytes for an entry whose size comes from the file.
        ("metadata-entry-2e48-malloc.h5", "check in a separate process failed: libhdf5 needed more than 512 MB of memory reading the file's metadata: sizes in the file are malformed, and the file was not opened"),
        // libhdf5 zero-filled a 3 GB driver-information buffer past the end of a 97-byte file.
        ("driver-info-3gb-zero-fill.h5", "check superblock failed: the driver information block at byte 75 claims 3166485692 bytes; the file ends after 97"),
        // libhdf5 segfaults on it: the crash happens in the separate checking process.
        ("accumulator-null-write.h5", "check in a separate process failed: libhdf5 crashed with signal 11 (segmentation fault) reading the file's metadata: the file is malformed and was not opened"),
        // 98 bytes that made libhdf5's metadata pass grow and fill 3 GB (reallocs): the child is stopped at the limit.
        ("metadata-3gb-realloc.h5", "check in a separate process failed: libhdf5 needed more than 512 MB of memory reading the file's metadata: sizes in the file are malformed, and the file was not opened"),
    ]

    @Test("each HDF5 finding is now a typed error naming the file", arguments: hdf5Findings)
    func hdf5Finding(_ finding: (input: String, error: String)) throws {
        let path = Self.root.appendingPathComponent("hdf5/\(finding.input)").path
        #expect { try EventFile.open(path) } throws: { error in "\(error)" == "\(path): \(finding.error)" }
    }

    @Test("the spillover target's wrapper is a valid FCS file carrying the fuzzed keyword")
    func spilloverWrapper() throws {
        let directory = TemporaryDirectory()
        let path = directory.path("wrapped.fcs")
        let bytes = FuzzTarget.fcsWithSpillover(Array("\u{0}3,FL1-A,FL2-A,FL3-A,1,0.1,0,0,1,0,0,0,1".utf8))
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let file = try FCSFile(path: path)
        let spillover = try #require(try file.dataSets[0].spillover.get())
        #expect(spillover.channels == ["FL1-A", "FL2-A", "FL3-A"])
        #expect(spillover[0, 1] == 0.1 && spillover[2, 2] == 1)
        #expect(file.dataSets[0].eventCount == 4)
        // A value holding the delimiter is escaped, so the keyword survives intact (and is then rejected as a matrix).
        #expect(FileManager.default.createFile(atPath: path, contents: Data(FuzzTarget.fcsWithSpillover(Array("\u{1}2,A/B,C,1,0,0,1".utf8)))))
        let escaped = try FCSFile(path: path)
        #expect(escaped.dataSets[0].keywords["SPILL"] == "2,A/B,C,1,0,0,1")
    }
}
