import ArgumentParser
import EventCore
import FCS
import HDF5Store
import Foundation
import Report

/// `flowmrd inspect FILE…`: what FlowMRD reads from each file.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show version, data sets, instrument, events, channels, spillover and warnings of FCS files.",
        discussion: "Results go to standard output, errors to standard error. Exit status: 0 every file was read; 1 at least one could not be (its entry in --json says why); " + ExitHelp.usage + ".")

    @Argument(help: "FCS files to inspect.")
    var files: [String]

    @Flag(help: "Print JSON (a list with one object per file) instead of text.")
    var json = false

    @Flag(help: "Read a truncated FCS file up to its last complete event, and the events that fit when DATA's length disagrees with $TOT × the bytes per event, instead of rejecting the file (with a warning).")
    var allowPartial = false

    func run() throws {
        var reports: [FCSInspection] = []
        for path in files {
            do {
                reports.append(FCSInspection(file: try EventFile.open(path, options: ReadOptions(allowPartialData: allowPartial))))
            } catch {
                reports.append(FCSInspection(path: path, error: error))
                CommandError.print(error)
            }
        }
        if json {
            print(try StableJSON.encode(reports))
        } else {
            let read = reports.filter { $0.error == nil }
            if !read.isEmpty { print(read.map(\.text).joined(separator: "\n\n")) }
        }
        if reports.contains(where: { $0.error != nil }) { throw ExitCode(1) }
    }
}
