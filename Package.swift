// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "FlowMRD",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "EventCore", targets: ["EventCore"]),
        .library(name: "FCS", targets: ["FCS"]),
        .library(name: "Cytometry", targets: ["Cytometry"]),
        .library(name: "MRD", targets: ["MRD"]),
        .library(name: "Synthetic", targets: ["Synthetic"]),
        .library(name: "Report", targets: ["Report"]),
        .executable(name: "flowmrd", targets: ["flowmrd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // The event core every format feeds: the block type, the reader protocols (EventSource,
        // EventReader), the format-neutral data-set description (EventDataSet, EventChannel,
        // SpilloverMatrix, ReadWarning) and the file-kind dispatch. Pure Swift, no dependencies.
        .target(name: "EventCore"),
        // FCS 2.0/3.0/3.1/3.2 reader and writer, an adapter that feeds the event core (packed float32
        // events decoded by an AVX2 kernel of CKernels where the CPU has it).
        .target(name: "FCS", dependencies: ["EventCore", "CKernels"]),
        // libhdf5 (found with pkg-config "hdf5"), and C functions for the macros Swift cannot import.
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .target(name: "CHDF5Shim", dependencies: ["CHDF5"]),
        // The HDF5 event store, the other adapter (it keeps the FCS keywords, which FCS describes).
        .target(name: "HDF5Store", dependencies: ["EventCore", "FCS", "CHDF5", "CHDF5Shim"]),
        // Compensation, transforms, gates, gating trees, Gating-ML 2.0, the streaming evaluator.
        .target(name: "Cytometry", dependencies: ["EventCore", "CKernels"]),
        // AVX2 versions of the evaluator's column kernels and the FCS float32 decoder, chosen at run time (portable Swift loops otherwise).
        .target(name: "CKernels"),
        // Gating templates, data-driven gates, aberrant plasma-cell rules, the cluster criterion and the MRD call.
        .target(name: "MRD", dependencies: ["EventCore", "FCS", "Cytometry", "CSHA256", .product(name: "Yams", package: "Yams")]),
        // SHA-256 compression with the x86 SHA extensions, for file checksums (portable Swift fallback in MRD).
        .target(name: "CSHA256"),
        // Synthetic bone-marrow event files with per-event truth.
        .target(name: "Synthetic", dependencies: ["EventCore", "FCS"]),
        // Text, JSON and (later) HTML renderings of results.
        .target(name: "Report", dependencies: ["EventCore", "Cytometry", "MRD", "Synthetic"]),
        // The command line: parses arguments and calls the libraries.
        .executableTarget(
            name: "flowmrd",
            dependencies: [
                "EventCore",
                "FCS",
                "Cytometry",
                "MRD",
                "HDF5Store",
                "Synthetic",
                "Report",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The parsers' fuzz entry points (docs/reliability.md), and their driver: libFuzzer when
        // built by `make fuzz`, a replay tool for saved inputs otherwise.
        .target(name: "FuzzTargets", dependencies: ["EventCore", "FCS", "Cytometry", "HDF5Store", "MRD"]),
        .executableTarget(name: "flowmrd-fuzz", dependencies: ["FuzzTargets"]),
        // Helpers shared by the test targets (locating ../shared, temporary directories).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "FCSTests", dependencies: ["EventCore", "FCS", "TestSupport"]),
        .testTarget(name: "CytometryTests", dependencies: ["EventCore", "CKernels", "Cytometry", "FCS", "TestSupport"]),
        .testTarget(name: "HDF5StoreTests", dependencies: ["EventCore", "HDF5Store", "CHDF5Shim", "FCS", "Cytometry", "TestSupport"]),
        .testTarget(name: "MRDTests", dependencies: ["EventCore", "MRD", "HDF5Store", "Synthetic", "Cytometry", "FCS", "TestSupport"]),
        .testTarget(name: "SyntheticTests", dependencies: ["EventCore", "Synthetic", "Cytometry", "FCS", "TestSupport"]),
        .testTarget(name: "ReportTests", dependencies: ["EventCore", "Report", "MRD", "Synthetic", "FCS", "HDF5Store", "TestSupport"]),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["EventCore", "FuzzTargets", "FCS", "Cytometry", "HDF5Store", "TestSupport"]),
        // Runs the built flowmrd binary as a user would.
        .testTarget(name: "CLITests", dependencies: ["flowmrd", "Synthetic"]),
    ]
)
