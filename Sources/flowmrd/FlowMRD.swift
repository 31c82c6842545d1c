import ArgumentParser

@main
struct FlowMRD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flowmrd",
        abstract: "Minimal residual disease in myeloma from flow-cytometry files.",
        subcommands: [AnalyzeCommand.self, QCCommand.self, BatchCommand.self, InspectCommand.self, ConvertCommand.self, GateCommand.self, SynthCommand.self, ValidateCommand.self, BenchCommand.self])
}
