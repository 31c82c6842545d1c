import ArgumentParser
import MRD

@main
struct FlowMRD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flowmrd",
        abstract: "Minimal residual disease in myeloma from flow-cytometry files.",
        version: MRDAnalyzer.software,
        subcommands: [AnalyzeCommand.self, QCCommand.self, BatchCommand.self, InspectCommand.self, ConvertCommand.self, GateCommand.self, CompareCommand.self, SynthCommand.self, ValidateCommand.self, ReferenceCommand.self, WorkflowCommand.self, BenchCommand.self])
}
