import EventCore
import FCS
import Foundation
import Testing
import TestSupport
@testable import HDF5Store

/// Whether python3 with anndata is available (make test installs it from PyPI).
enum PythonAnnData {
    static let available = Python.hasModule("anndata")
    static let skipMessage = "python3 with anndata is not installed (make test installs it from PyPI): the AnnData interoperability test is skipped"

    /// Runs a Python script with arguments; returns its standard output parsed as JSON.
    static func run(_ script: String, _ arguments: [String]) throws -> [String: Any] {
        let result = try Python.run(["-c", script] + arguments)
        guard result.status == 0, let object = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any] else {
            Issue.record("python failed: \(result.stderr)")
            return [:]
        }
        return object
    }
}

@Suite("AnnData layout")
struct AnnDataTests {
    let directory = TemporaryDirectory()

    /// A small FCS file with a marker on some channels, a keyword holding "/", and spillover.
    func source() throws -> String {
        let path = directory.path("a.fcs")
        let channels = [FCSChannelDescription(name: "FSC-A", range: 262_144), FCSChannelDescription(name: "FITC-A", marker: "CD19", range: 262_144),
                        FCSChannelDescription(name: "PE-A", marker: "CD19", range: 262_144), FCSChannelDescription(name: "APC-A", marker: "CD38", range: 262_144)]
        var keywords = DataSetKeywords()
        keywords["$CYT"] = "Test cytometer"
        keywords["LAB/SITE"] = "ward 3/B"
        let writer = try FCSWriter(path: path, channels: channels, eventCount: 2_500, keywords: keywords,
                                   spillover: try SpilloverMatrix(channels: ["FITC-A", "PE-A"], values: [1, 0.1, 0.02, 1]), durable: false)
        var block = EventBlock<Float>(channelCount: 4, capacity: 2_500)
        block.setCount(2_500)
        for e in 0..<2_500 { for c in 0..<4 { block[c, e] = Float((e * 31 + c * 7) % 1000) + 0.25 } }
        try writer.append(block)
        try writer.finish()
        return path
    }

    @Test("variable names are unique: a marker shared by two channels falls back to their $PnN")
    func variableNames() {
        #expect(HDF5EventWriter.annDataVariableNames(channelNames: ["FSC-A", "FITC-A", "PE-A", "APC-A"], markers: [nil, "CD19", "CD19", "CD38"])
                == ["FSC-A", "FITC-A", "PE-A", "CD38"])
        #expect(HDF5EventWriter.annDataVariableNames(channelNames: ["A", "A"], markers: [nil, nil]) == ["A [P1]", "A [P2]"])
        #expect(HDF5EventWriter.annDataKey("LAB/SITE") == "LAB%2FSITE" && HDF5EventWriter.annDataKey("50%") == "50%25")
    }

    @Test("anndata.read_h5ad loads X, the variable names (markers), the channels and every FCS keyword under uns, also backed",
          .enabled(if: PythonAnnData.available, Comment(rawValue: PythonAnnData.skipMessage)))
    func readByAnnData() throws {
        let fcs = try source()
        let h5ad = directory.path("a.h5ad")
        let summary = try HDF5Conversion.fcsToHDF5(fcsPath: fcs, hdf5Path: h5ad, layout: .anndata)
        #expect(summary.events == 2_500)
        let script = """
        import anndata, json, sys
        a = anndata.read_h5ad(sys.argv[1])
        b = anndata.read_h5ad(sys.argv[1], backed="r")
        print(json.dumps({"shape": list(a.shape), "backed": list(b.shape), "dtype": str(a.X.dtype),
                          "var": list(a.var_names), "channel": list(a.var["channel"]), "marker": list(a.var["marker"]),
                          "sums": [float(a.X[:, c].astype("float64").sum()) for c in range(a.shape[1])],
                          "row7": [float(v) for v in a.X[7, :]], "obs0": str(a.obs_names[0]), "obsLast": str(a.obs_names[-1]),
                          "keywords": {k: str(v) for k, v in a.uns["fcs_keywords"].items()}, "version": str(a.uns["fcs_version"])}))
        """
        let result = try PythonAnnData.run(script, [h5ad])
        #expect(result["shape"] as? [Int] == [2_500, 4] && result["backed"] as? [Int] == [2_500, 4])
        #expect(result["dtype"] as? String == "float32")
        #expect(result["var"] as? [String] == ["FSC-A", "FITC-A", "PE-A", "CD38"])
        #expect(result["channel"] as? [String] == ["FSC-A", "FITC-A", "PE-A", "APC-A"])
        #expect(result["marker"] as? [String] == ["", "CD19", "CD19", "CD38"])
        #expect(result["obs0"] as? String == "0" && result["obsLast"] as? String == "2499")
        // Values against our own FCS reader.
        var reader = try FCSFile(path: fcs).reader(blockSize: 2_500)
        var block = reader.makeBlock(of: Float.self)
        _ = try reader.next(into: &block)
        let sums = (0..<4).map { c in block.column(c).reduce(0.0) { $0 + Double($1) } }
        #expect(result["sums"] as? [Double] == sums)
        #expect(result["row7"] as? [Double] == (0..<4).map { Double(block[$0, 7]) })
        let keywords = try #require(result["keywords"] as? [String: String])
        let original = try FCSFile(path: fcs).dataSets[0].keywords
        #expect(keywords.count == original.count)
        #expect(keywords["$CYT"] == "Test cytometer" && keywords["LAB%2FSITE"] == "ward 3/B")
        #expect(keywords["$SPILLOVER"] == original["$SPILLOVER"])
        #expect(result["version"] as? String == "FCS3.1")
    }
}
