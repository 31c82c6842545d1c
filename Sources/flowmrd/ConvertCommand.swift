import ArgumentParser
import Foundation
import HDF5Store

extension HDF5EventLayout: ExpressibleByArgument {}

/// `flowmrd convert IN OUT`: FCS to HDF5 (.h5, .hdf5, or .h5ad for AnnData) or back, by the output's extension.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert FCS to HDF5 (OUT.h5, or OUT.h5ad for AnnData) or an HDF5 event store back to FCS (OUT.fcs), streaming.",
        discussion: """
            Values, channel names, markers, ranges and every FCS keyword (spillover included) are kept; \
            the layouts are described in docs/hdf5-layout.md. Values a float32 cannot hold exactly \
            (64-bit floats, integers wider than 24 bits) are rounded, with a warning.
            Exit status: 0 written; 1 the input could not be read or the output written (an existing \
            output without --overwrite included); \(ExitHelp.usage).
            """)

    @Argument(help: "Input file (.fcs, or an HDF5 event store in the flowmrd layout).")
    var input: String

    @Argument(help: "Output file: .h5/.hdf5 for HDF5, .h5ad for AnnData, .fcs for FCS.")
    var output: String

    @Option(help: "HDF5 layout: flowmrd or anndata (default: anndata for .h5ad, else flowmrd).")
    var layout: HDF5EventLayout?

    @Option(parsing: .unconditional, help: "Compress the event matrix with shuffle + deflate at this level (1-9; default: none, the fastest).")
    var compression: Int?

    @Flag(help: "Replace OUT if it exists (without this, an existing file is an error and is left as it is).")
    var overwrite = false

    func validate() throws {
        if let compression, !(1...9).contains(compression) { throw ValidationError("--compression must be 1-9, not \(compression)") }
        let toHDF5 = [".h5", ".hdf5", ".h5ad"].contains { output.lowercased().hasSuffix($0) }
        if !toHDF5 && !output.lowercased().hasSuffix(".fcs") { throw ValidationError("the output must end in .h5, .hdf5, .h5ad or .fcs") }
        if !toHDF5 && (layout != nil || compression != nil) { throw ValidationError("--layout and --compression apply to HDF5 output only") }
    }

    func run() throws {
        if !overwrite && FileManager.default.fileExists(atPath: output) {
            CommandError.print("\(output) exists; give --overwrite to replace it (it was left as it is)")
            throw ExitCode(1)
        }
        do {
            let summary: HDF5Conversion.Summary
            if output.lowercased().hasSuffix(".fcs") {
                summary = try HDF5Conversion.hdf5ToFCS(hdf5Path: input, fcsPath: output)
            } else {
                let chosen = layout ?? (output.lowercased().hasSuffix(".h5ad") ? .anndata : .flowmrd)
                summary = try HDF5Conversion.fcsToHDF5(fcsPath: input, hdf5Path: output, layout: chosen, compression: compression)
            }
            for warning in summary.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            print("wrote \(output): \(summary.events) events")
        } catch {
            CommandError.print(error)
            throw ExitCode(1)
        }
    }
}
