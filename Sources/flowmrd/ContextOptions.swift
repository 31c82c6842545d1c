import ArgumentParser
import MRD

/// `--context`: what the run declares about the patient's therapy (shared by analyze and batch).
struct ContextOptions: ParsableArguments {
    @Option(name: .customLong("context"), help: ArgumentHelp(
        "A therapy context; repeatable: post-car-t (normal plasma cells may be absent), anti-cd38 (CD38 masked).",
        discussion: "Declared contexts are recorded in the result and shown in the report."))
    var contexts: [String] = []

    func validate() throws {
        for name in contexts where TherapyContext(rawValue: name) == nil {
            throw ValidationError("--context must be one of \(TherapyContext.allCases.map(\.rawValue).joined(separator: ", ")) (got \"\(name)\")")
        }
    }

    var declared: Set<TherapyContext> { Set(contexts.compactMap(TherapyContext.init(rawValue:))) }
}
