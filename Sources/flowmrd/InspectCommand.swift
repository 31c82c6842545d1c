import ArgumentParser
import FCS
import HDF5Store
import Foundation
import Report

/// `flowmrd inspect FILE…`: what FlowMRD reads from each file.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show version, data sets, instrument, events, channels, spillover and warnings of FCS files.",
        discussion: "Exits with status 1 when any file could not be read.")

    @Argument(help: "FCS files to inspect.")
    var files: [String]

    @Flag(help: "Print JSON (a list with one object per file) instead of text.")
    var json = false

    @Flag(help: "Read the complete events of truncated files, and the events that fit when DATA's length disagrees with $TOT × the bytes per event, instead of rejecting them (with a warning).")
    var partial = false

    func run() throws {
        var reports: [FCSInspection] = []
        for path in files {
            do {
                reports.append(FCSInspection(file: try EventFile.open(path, options: FCSReadOptions(allowPartialData: partial))))
            } catch {
                reports.append(FCSInspection(path: path, error: error))
            }
        }
        if json {
            print(try StableJSON.encode(reports))
        } else {
            print(reports.map(\.text).joined(separator: "\n\n"))
        }
        if reports.contains(where: { $0.error != nil }) { throw ExitCode(1) }
    }
}
