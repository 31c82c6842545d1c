import CHDF5Shim
import FCS
import Foundation
import Testing
import TestSupport
@testable import HDF5Store

/// The metadata pass the checking process runs (`chdf5_probe_file`), called here in-process:
/// it must read FlowMRD's own stores in both layouts without an error — a probe that failed on
/// good files would go unnoticed, since the caller then reports libhdf5's own message — and
/// report libhdf5's errors as status 3.
@Suite("HDF5 checking process")
struct HDF5ProbeTests {
    let directory = TemporaryDirectory()

    @Test("stores in the flowmrd and AnnData layouts, compressed or not, read without an error")
    func goodStores() throws {
        let fcs = SharedMaterial.packageRoot.appendingPathComponent("samples/too-few.fcs").path
        for (name, layout, compression) in [("a.h5", HDF5EventLayout.flowmrd, nil), ("b.h5", .flowmrd, 4), ("c.h5ad", .anndata, nil)] as [(String, HDF5EventLayout, Int?)] {
            let path = directory.path(name)
            _ = try HDF5Conversion.fcsToHDF5(fcsPath: fcs, hdf5Path: path, layout: layout, compression: compression)
            #expect(chdf5_probe_file(path) == 0, "\(name)")
        }
    }

    @Test("libhdf5's errors are status 3, for the caller to report; a file that is not HDF5 too; an allocation libhdf5 cannot make is status 4")
    func errors() throws {
        let root = SharedMaterial.packageRoot.appendingPathComponent("Tests/FuzzRegressions/hdf5")
        // 2⁴⁸ bytes asked for by a size in the file: malloc fails even without the child's cap.
        #expect(chdf5_probe_file(root.appendingPathComponent("metadata-entry-2e48-malloc.h5").path) == 4)
        #expect(chdf5_probe_file(SharedMaterial.packageRoot.appendingPathComponent("samples/too-few.fcs").path) == 3)
        #expect(chdf5_probe_file(directory.path("missing.h5")) == 3)
    }

    @Test("an AnnData file given as input is an error that says what it is and what FlowMRD reads")
    func annDataInput() throws {
        let path = directory.path("e.h5ad")
        _ = try HDF5Conversion.fcsToHDF5(fcsPath: SharedMaterial.packageRoot.appendingPathComponent("samples/too-few.fcs").path, hdf5Path: path, layout: .anndata)
        #expect(throws: HDF5Error(file: path, operation: "open /events", message: "this is an AnnData file (/X); FlowMRD reads HDF5 event stores in the flowmrd layout (docs/hdf5-layout.md): convert the FCS file to .h5")) {
            try HDF5EventFile(path: path)
        }
    }

    @Test("a check that does not finish in time is stopped and the file refused (a FIFO nobody writes to blocks the child)")
    func timeout() throws {
        let path = directory.path("blocking.h5")
        try #require(mkfifo(path, 0o600) == 0)
        let started = Date()
        #expect(throws: HDF5Error(file: path, operation: "check in a separate process", message: "libhdf5 did not finish reading the file's metadata within 0.5 s; the file was not opened")) {
            try HDF5Probe.check(path: path, timeout: 0.5)
        }
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test("a check whose process passes the memory limit is stopped and the file refused (a 1 MB limit, below any process's own size)")
    func memoryLimit() throws {
        let path = directory.path("f.h5")
        _ = try HDF5Conversion.fcsToHDF5(fcsPath: SharedMaterial.packageRoot.appendingPathComponent("samples/too-few.fcs").path, hdf5Path: path)
        #expect(throws: HDF5Error(file: path, operation: "check in a separate process", message: "libhdf5 needed more than 1 MB of memory reading the file's metadata: sizes in the file are malformed, and the file was not opened")) {
            try HDF5Probe.check(path: path, memoryLimit: 1 << 20)
        }
        try HDF5Probe.check(path: path)   // the real limit lets the same file through
    }

    @Test("a good store passes the check in a separate process and opens")
    func separateProcess() throws {
        let path = directory.path("d.h5")
        _ = try HDF5Conversion.fcsToHDF5(fcsPath: SharedMaterial.packageRoot.appendingPathComponent("samples/too-few.fcs").path, hdf5Path: path)
        try HDF5Probe.check(path: path)
        #expect(try HDF5EventFile(path: path).dataSets[0].eventCount == (try FCSFile(path: SharedMaterial.packageRoot.appendingPathComponent("samples/too-few.fcs").path).dataSets[0].eventCount))
    }
}
