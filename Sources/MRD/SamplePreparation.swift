import Cytometry
import EventCore
import FCS

/// Sample preparation: the template's markers found in the file (``PanelMapping``) and the
/// compensation chosen (the file's spillover, the template's matrix, or none), each checked —
/// a marker the file lacks, or a spillover that is absent, unusable or singular, makes the
/// sample not evaluable before any event is read.
struct SamplePreparation {
    let mapping: PanelMapping
    /// Marker → channel.
    let panel: [String: String]
    let compensation: CompensationReference
    let matrices: [String: CompensationMatrix]
    /// The file's spillover as a matrix, when `compensation` is `.file` (built once, for export).
    var fileCompensation: CompensationMatrix? = nil
    let warnings: [String]

    enum Outcome {
        case ready(SamplePreparation)
        case notEvaluable(reason: String, panel: [String: String])
    }

    /// - Complexity: O(channels²) (the spillover's inverse).
    static func prepare(template: GatingTemplate, dataSet: EventDataSet, path: String,
                        assignments: ChannelAssignments = .none) throws(MRDError) -> Outcome {
        var warnings: [String] = []
        let mapping: PanelMapping
        do { mapping = try PanelMapping(template: template, dataSet: dataSet, file: path, assignments: assignments) } catch {
            guard case .panel = error else { throw error }
            let detail = error.description
            return .notEvaluable(reason: "panel incomplete: " + (detail.hasPrefix(path + ": ") ? String(detail.dropFirst(path.count + 2)) : detail), panel: [:])
        }
        warnings += mapping.warnings
        let panel = Dictionary(uniqueKeysWithValues: mapping.entries.map { ($0.marker, $0.channel) })
        // Compensation.
        var reference = CompensationReference.uncompensated
        var matrices: [String: CompensationMatrix] = [:]
        var fileMatrix: CompensationMatrix?
        let compensatedChannels = Set(template.panel.filter(\.compensated).map { mapping.entry($0.name)!.channel })
        switch template.compensation {
        case .none:
            warnings.append("compensation: none (the template says the data is already compensated)")
        case .file:
            switch dataSet.spillover {
            case .failure(let error):
                return .notEvaluable(reason: "QC failure: the file's spillover matrix cannot be used (\(error.reasonWithoutFileName))", panel: panel)
            case .success(nil):
                return .notEvaluable(reason: "QC failure: the file carries no spillover matrix, and the template asks for the file's compensation", panel: panel)
            case .success(let spillover?):
                do { fileMatrix = try CompensationMatrix(spillover: spillover) } catch {
                    return .notEvaluable(reason: "QC failure: the file's spillover matrix cannot be inverted (\(error))", panel: panel)
                }
                let missing = compensatedChannels.subtracting(spillover.channels).sorted()
                if !missing.isEmpty { warnings.append("compensation: channels \(missing.joined(separator: ", ")) are not in the file's spillover matrix and stay uncompensated") }
                reference = .file
            }
        case .matrix(let spillover):
            do { matrices["template"] = try CompensationMatrix(spillover: spillover) } catch { throw .cytometry(file: template.path, error) }
            let available = Set(dataSet.channels.map(\.name))
            if let absent = spillover.channels.first(where: { !available.contains($0) }) {
                return .notEvaluable(reason: "panel incomplete: the template's spillover names channel \(absent), which the file does not have", panel: panel)
            }
            reference = .matrix("template")
        }
        return .ready(SamplePreparation(mapping: mapping, panel: panel, compensation: reference, matrices: matrices, fileCompensation: fileMatrix, warnings: warnings))
    }
}
