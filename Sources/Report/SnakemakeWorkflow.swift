import Foundation

/// The Snakemake workflow `flowmrd workflow snakemake` writes (issue 19): a Snakefile with one
/// job per sample (`flowmrd batch IN --out RESULTS --sample FILE`, the same result files as
/// `flowmrd batch`) and one summary job (`flowmrd batch IN --out RESULTS --summarize`),
/// `config.yaml`, and the `local` and `slurm` profiles.
///
/// The Snakefile lists the input folder when it runs (the same rules as ``SampleList``), so
/// files added later become new jobs and nothing else reruns; the template's and reference's
/// SHA-256 are job parameters computed when it runs, so changing either reruns every sample; a
/// sample that cannot be analysed fails its own job only.
public struct SnakemakeWorkflow: Sendable {
    public var input: String
    public var results: String
    public var template: String
    public var templateSHA256: String
    public var reference: String?
    public var flowmrd: String
    public var software: String
    public var threads = 2
    public var memoryMB = 1_024
    public var runtimeMinutes = 30

    public init(input: String, results: String, template: String, templateSHA256: String, reference: String?, flowmrd: String, software: String) {
        self.input = input
        self.results = results
        self.template = template
        self.templateSHA256 = templateSHA256
        self.reference = reference
        self.flowmrd = flowmrd
        self.software = software
    }

    /// Relative path → contents, in writing order.
    public var files: [(String, String)] {
        [("Snakefile", snakefile), ("config.yaml", config), ("profiles/local/config.yaml", localProfile), ("profiles/slurm/config.yaml", slurmProfile)]
    }

    /// A YAML scalar (JSON string syntax, which YAML reads as it is).
    static func quoted(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")
    }

    var config: String {
        """
        # FlowMRD workflow configuration (written by \(software): flowmrd workflow snakemake).
        input: \(Self.quoted(input))
        results: \(Self.quoted(results))
        template: \(Self.quoted(template))
        # When written; the Snakefile hashes the template again at every run.
        template_sha256: \(Self.quoted(templateSHA256))
        reference: \(reference.map(Self.quoted) ?? "null")
        flowmrd: \(Self.quoted(flowmrd))
        software: \(Self.quoted(software))
        threads: \(threads)
        mem_mb: \(memoryMB)
        runtime: \(runtimeMinutes)

        """
    }

    var snakefile: String {
        """
        # Written by \(software) (flowmrd workflow snakemake); settings live in config.yaml.
        # One job per sample (flowmrd batch --sample: the same NAME.json and NAME.html as flowmrd batch),
        # then the cohort summary (flowmrd batch --summarize). Run with --profile profiles/local or profiles/slurm.
        import hashlib
        import os

        configfile: "config.yaml"

        INPUT = config["input"]
        RESULTS = config["results"]
        EXTENSIONS = {\(SampleList.extensions.sorted().map { "\".\($0)\"" }.joined(separator: ", "))}

        def samples():
            \"\"\"The event files of INPUT, as flowmrd batch takes them.\"\"\"
            names = []
            for name in sorted(os.listdir(INPUT)):
                path = os.path.join(INPUT, name)
                if name.startswith(".") or name.lower().endswith(".events.h5") or not os.path.isfile(path):
                    continue
                if os.path.splitext(name)[1].lower() in EXTENSIONS:
                    names.append(name)
            return names

        def sha256(path):
            if path is None:
                return "none"
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
            return digest.hexdigest()

        TEMPLATE_SHA256 = sha256(config["template"])
        REFERENCE_SHA256 = sha256(config.get("reference"))
        REFERENCE = "--reference " + config["reference"] if config.get("reference") else ""

        wildcard_constraints:
            name="[^/]+"

        rule all:
            input:
                os.path.join(RESULTS, "summary.json"),

        rule sample:
            input:
                os.path.join(INPUT, "{name}"),
            output:
                os.path.join(RESULTS, "{name}.json"),
            params:
                template=config["template"],
                template_sha256=TEMPLATE_SHA256,
                reference=REFERENCE,
                reference_sha256=REFERENCE_SHA256,
                software=config["software"],
            threads: config["threads"]
            resources:
                mem_mb=config["mem_mb"],
                runtime=config["runtime"],
            shell:
                "{config[flowmrd]} batch {INPUT:q} --out {RESULTS:q} --sample {input:q} --template {params.template:q} {params.reference} --workers {threads} --quiet"

        rule summary:
            input:
                expand(os.path.join(RESULTS, "{name}.json"), name=samples()),
            output:
                os.path.join(RESULTS, "summary.json"),
                os.path.join(RESULTS, "summary.csv"),
            params:
                template=config["template"],
                reference=REFERENCE,
            shell:
                "{config[flowmrd]} batch {INPUT:q} --out {RESULTS:q} --summarize --template {params.template:q} {params.reference} --quiet"

        """
    }

    var localProfile: String {
        """
        # snakemake --profile profiles/local: jobs on this machine.
        cores: \(2 * threads)
        keep-going: true
        printshellcmds: true
        rerun-triggers: [mtime, params, input]

        """
    }

    var slurmProfile: String {
        """
        # snakemake --profile profiles/slurm (needs snakemake-executor-plugin-slurm): one SLURM job per sample.
        executor: slurm
        jobs: 200
        keep-going: true
        printshellcmds: true
        rerun-triggers: [mtime, params, input]
        latency-wait: 30
        default-resources:
          mem_mb: \(memoryMB)
          runtime: \(runtimeMinutes)
          cpus_per_task: \(threads)
        # Set the lab's account and partition here, e.g.:
        #   slurm_account: "mrd-lab"
        #   slurm_partition: "compute"

        """
    }
}
