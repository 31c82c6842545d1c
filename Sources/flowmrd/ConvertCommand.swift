import ArgumentParser
import Foundation
import HDF5Store

/// `flowmrd convert IN OUT`: FCS to HDF5 (.h5) or back, by the output's extension.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert FCS to HDF5 (OUT.h5) or HDF5 to FCS (OUT.fcs), streaming; values, channels, markers and keywords are kept.")

    @Argument(help: "Input file (.fcs or .h5).")
    var input: String

    @Argument(help: "Output file: .h5 for HDF5, .fcs for FCS.")
    var output: String

    func run() throws {
        do {
            let summary: HDF5Conversion.Summary
            if output.hasSuffix(".h5") || output.hasSuffix(".hdf5") {
                summary = try HDF5Conversion.fcsToHDF5(fcsPath: input, hdf5Path: output)
            } else if output.hasSuffix(".fcs") {
                summary = try HDF5Conversion.hdf5ToFCS(hdf5Path: input, fcsPath: output)
            } else {
                throw ValidationError("the output must end in .h5 or .fcs")
            }
            for warning in summary.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            print("wrote \(output): \(summary.events) events")
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
