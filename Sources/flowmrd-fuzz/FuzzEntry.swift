import Foundation
import FuzzTargets

// Built two ways (docs/reliability.md):
// - `make fuzz` builds with -sanitize=fuzzer,address and -DFUZZING: libFuzzer's main calls
//   LLVMFuzzerTestOneInput for the target named in $FLOWMRD_FUZZ_TARGET.
// - A plain build gives a replay tool: `flowmrd-fuzz TARGET FILE…` runs saved inputs through the
//   same entry point (what the regression tests do).

#if FUZZING
let selectedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["FLOWMRD_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        fatalError("set FLOWMRD_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    selectedTarget.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
#else
@main
struct FuzzReplay {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let first = arguments.first, let target = FuzzTarget(rawValue: first), arguments.count > 1 else {
            FileHandle.standardError.write(Data("usage: flowmrd-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) FILE…\n".utf8))
            exit(2)
        }
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                exit(2)
            }
            target.run(Array(data))
            print("ok \(path)")
        }
    }
}
#endif
