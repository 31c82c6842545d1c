import Foundation
import Testing

/// The Snakemake workflow run for real with the local profile (issue 19): results byte-identical
/// to `flowmrd batch`, a corrupt sample failing only its own job, new files running alone.
enum Snakemake {
    /// `snakemake` on the PATH (pip installs it; `make pydeps` does), or nil.
    static let path: String? = {
        let candidates = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/snakemake" }
            + ["\(NSHomeDirectory())/.local/bin/snakemake", "/usr/local/bin/snakemake"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()
    static var available: Bool { path != nil && FlowMRDBinary.path != nil }

    /// Whether the SLURM executor plugin can be imported by the Python that runs snakemake.
    static let slurmPlugin: Bool = {
        guard available else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import snakemake_executor_plugin_slurm"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    static func run(_ arguments: [String]) throws -> FlowMRDBinary.Result {
        try FlowMRDBinary.execute(path!, arguments)
    }
}

@Suite("flowmrd workflow snakemake", .enabled(if: Snakemake.available, Comment(rawValue: "needs the built binary and snakemake (make pydeps installs it from PyPI)")))
struct WorkflowCLITests {
    let manager = FileManager.default

    @Test("the local profile: results as flowmrd batch gives them, a corrupt sample fails alone, a new file runs alone, a changed template reruns all")
    func local() throws {
        let root = manager.temporaryDirectory.appendingPathComponent("flowmrd-wf-\(UUID().uuidString)")
        defer { try? manager.removeItem(at: root) }
        let cohort = try Cohort(root: root, threads: nil)
        let (input, wf, template, text) = (cohort.input, cohort.wf, cohort.template, cohort.templateText)
        let snakefile = ["-s", wf.appendingPathComponent("Snakefile").path, "-d", wf.path, "--profile", wf.appendingPathComponent("profiles/local").path]
        try cohort.runAndCompare(snakefile)
        // A new file: one sample job and the summary, nothing else.
        #expect(try FlowMRDBinary.run(["synth", input.appendingPathComponent("s6.fcs").path, "--events", "20000", "--seed", "6", "--quiet"]).status == 0)
        let dry = try Snakemake.run(snakefile + ["--dry-run"])
        #expect(Self.jobs(dry.stdout, "sample") == 1 && Self.jobs(dry.stdout, "summary") == 1, "\(dry.stdout)")
        #expect(try Snakemake.run(snakefile).status == 0)
        // A changed template: every sample again.
        try (text + "\n# edited\n").write(toFile: template, atomically: true, encoding: .utf8)
        let again = try Snakemake.run(snakefile + ["--dry-run"])
        #expect(Self.jobs(again.stdout, "sample") == 6, "\(again.stdout)")
    }

    /// Five synthetic samples (two with a clone) and a corrupt one, a template small samples pass,
    /// and the workflow written for them.
    struct Cohort {
        let input: URL, wf: URL, batch: URL, template: String, templateText: String
        let manager = FileManager.default

        init(root: URL, threads: Int?) throws {
            input = root.appendingPathComponent("in")
            wf = root.appendingPathComponent("wf")
            batch = root.appendingPathComponent("batch")
            try manager.createDirectory(at: input, withIntermediateDirectories: true)
            for seed in 1...5 {
                #expect(try FlowMRDBinary.run(["synth", input.appendingPathComponent("s\(seed).fcs").path, "--events", "20000", "--seed", "\(seed)",
                                               "--mrd", seed % 2 == 0 ? "0.01" : "0", "--quiet"]).status == 0)
            }
            #expect(manager.createFile(atPath: input.appendingPathComponent("corrupt.fcs").path, contents: Data("FCS3.1  damaged".utf8)))
            template = root.appendingPathComponent("small.yaml").path
            templateText = try String(contentsOfFile: FlowMRDBinary.packageRoot.appendingPathComponent("gating-templates/legend2-10color.yaml").path, encoding: .utf8)
                .replacingOccurrences(of: "min_nucleated_cells: 1500000", with: "min_nucleated_cells: 10000")
            try templateText.write(toFile: template, atomically: true, encoding: .utf8)
            let written = try FlowMRDBinary.run(["workflow", "snakemake", input.path, "--out", wf.path, "--template", template]
                                                + (threads.map { ["--threads", "\($0)"] } ?? []))
            #expect(written.status == 0, "\(written.stderr)")
        }

        /// Runs the workflow: the corrupt sample's job fails alone; without it the summary runs, and
        /// every result and the summary are byte-identical to one `flowmrd batch` of the folder.
        func runAndCompare(_ snakemake: [String]) throws {
            let first = try Snakemake.run(snakemake)
            // The corrupt sample's job fails (so the summary does not run); the other five finish.
            #expect(first.status != 0 && first.stderr.contains("corrupt.fcs"), "\(first.stderr.suffix(2000))")
            let results = wf.appendingPathComponent("results")
            for seed in 1...5 { #expect(manager.fileExists(atPath: results.appendingPathComponent("s\(seed).fcs.json").path), "s\(seed): \(first.stderr.suffix(2000))") }
            #expect(!manager.fileExists(atPath: results.appendingPathComponent("corrupt.fcs.json").path))
            // Without the corrupt file: the summary, and everything byte-identical to one flowmrd batch.
            try manager.removeItem(at: input.appendingPathComponent("corrupt.fcs"))
            let second = try Snakemake.run(snakemake)
            #expect(second.status == 0, "\(second.stderr.suffix(2000))")
            _ = try FlowMRDBinary.run(["batch", input.path, "--out", batch.path, "--template", template, "--quiet"])
            let names = try manager.contentsOfDirectory(atPath: batch.path).sorted()
            #expect(names.count == 12 && names.contains("summary.json"))
            for name in names {
                #expect(manager.contents(atPath: batch.appendingPathComponent(name).path) == manager.contents(atPath: results.appendingPathComponent(name).path), "\(name)")
            }
        }
    }

    @Test("a single-node SLURM cluster started here (slurm-wlm, munge): profiles/slurm gives results byte-identical to flowmrd batch, a corrupt sample failing alone",
          .enabled(if: Snakemake.slurmPlugin, Comment(rawValue: "needs snakemake-executor-plugin-slurm (make pydeps installs it)")))
    func slurmCluster() throws {
        let root = URL(fileURLWithPath: "/tmp/flowmrd-slurm-\(UUID().uuidString.prefix(8))")
        defer { try? manager.removeItem(at: root) }
        let clusterDirectory = root.appendingPathComponent("cluster").path
        let script = FlowMRDBinary.packageRoot.appendingPathComponent("Tests/slurm/single-node-cluster.sh").path
        let started = try FlowMRDBinary.shell(["/bin/bash", script, "start", clusterDirectory])
        guard started.status == 0 else {
            // The fallback: say why, and leave profiles/slurm to the dry-run test.
            print("SLURM cluster test: no cluster started here (\(started.stderr.trimmingCharacters(in: .whitespacesAndNewlines))); "
                  + "profiles/slurm was checked by the dry-run test only")
            return
        }
        defer { _ = try? FlowMRDBinary.shell(["/bin/bash", script, "stop", clusterDirectory]) }
        // One CPU per job, so the two-CPU node runs two sample jobs at once.
        let cohort = try Cohort(root: root, threads: 1)
        // squeue for job status: sacct needs accounting (slurmdbd), which this cluster has not.
        try cohort.runAndCompare(["-s", cohort.wf.appendingPathComponent("Snakefile").path, "-d", cohort.wf.path,
                                  "--profile", cohort.wf.appendingPathComponent("profiles/slurm").path,
                                  "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2",
                                  "--seconds-between-status-checks", "3", "--slurm-keep-successful-logs"])
        // The jobs really went through SLURM: the executor kept one SLURM log per sample job
        // (.snakemake/slurm_logs/rule_sample/WILDCARDS/JOBID.log), the corrupt one's too.
        let logs = cohort.wf.appendingPathComponent(".snakemake/slurm_logs/rule_sample")
        let files = (manager.enumerator(atPath: logs.path)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".log") }
        #expect(files.count == 6, "\(files)")
    }

    @Test("the SLURM profile is a valid Snakemake profile: a dry run plans one job per sample and the summary",
          .enabled(if: Snakemake.slurmPlugin, Comment(rawValue: "needs snakemake-executor-plugin-slurm (make pydeps installs it); no SLURM cluster is started here")))
    func slurmDryRun() throws {
        let root = manager.temporaryDirectory.appendingPathComponent("flowmrd-wf-\(UUID().uuidString)")
        defer { try? manager.removeItem(at: root) }
        let input = root.appendingPathComponent("in"), wf = root.appendingPathComponent("wf")
        try manager.createDirectory(at: input, withIntermediateDirectories: true)
        for name in ["positive.fcs", "too-few.fcs", "borderline-30.fcs"] {
            try manager.copyItem(atPath: FlowMRDBinary.packageRoot.appendingPathComponent("samples/\(name)").path, toPath: input.appendingPathComponent(name).path)
        }
        #expect(try FlowMRDBinary.run(["workflow", "snakemake", input.path, "--out", wf.path, "--threads", "4", "--mem-mb", "2048"]).status == 0)
        let profile = try String(contentsOfFile: wf.appendingPathComponent("profiles/slurm/config.yaml").path, encoding: .utf8)
        #expect(profile.contains("executor: slurm") && profile.contains("mem_mb: 2048") && profile.contains("cpus_per_task: 4"))
        let dry = try Snakemake.run(["-s", wf.appendingPathComponent("Snakefile").path, "-d", wf.path, "--profile", wf.appendingPathComponent("profiles/slurm").path, "--dry-run"])
        #expect(dry.status == 0 && Self.jobs(dry.stdout, "sample") == 3 && Self.jobs(dry.stdout, "summary") == 1, "\(dry.stdout)\(dry.stderr)")
    }

    /// The count snakemake's dry-run job table gives for `rule`.
    static func jobs(_ output: String, _ rule: String) -> Int {
        for line in output.split(separator: "\n") {
            let fields = line.split(whereSeparator: \.isWhitespace)
            if fields.count == 2, fields[0] == rule, let n = Int(fields[1]) { return n }
        }
        return 0
    }
}
