#!/usr/bin/env python3
"""FlowMRD's calls on files of the independent marrow generator (independent_marrow.py).

Usage: independent_matrix.py FLOWMRD OUTDIR [--templates DIR] [--normals N] [--clones N] [--jobs J] [--therapy N] [--skip K]
                             [--deep N] [--events E]

Writes, per file, one TSV row (seed, condition, clone events, nucleated events, call, counted,
MRD %, interval, the switched-off gates and the spreading warnings) to OUTDIR/independent.tsv,
and a summary to standard output. Files are written to OUTDIR and removed once analysed.
Conditions: normal marrow (seeds 1…N), regenerating marrow (301…), a clone of 10⁻³ (101…)
and of 10⁻⁴ (201…) of nucleated cells. With `--therapy N` (N files each): normal marrow under
anti-CD38 therapy (401…) and with a 10⁻³ clone (451…), hemodiluted normal marrow (601…, 80–95%
blood), marrow after BCMA CAR-T analysed with `--context post-car-t` without (701…) and with a
10⁻³ clone (751…), single-aberrancy 10⁻³ clones (901…) and 10⁻² clones (1001…). With `--deep N`: N clones of 10⁻⁵ (1101…), the IMWG
level, best run with `--events 5000000` or more (the generator's default is 2,000,000 events;
`--events` applies to every file).
`--skip K` starts every condition K blocks of its default size later, on seeds the call was
never mended on: `--skip 1 --normals 60 --clones 30` gives normals 31–90 and clones 116–145 and
216–245; `--skip 3 --normals 60 --clones 30` normals 91–150 and clones 146–175 and 246–275
(docs/validation.md, "Seeds outside the matrix").
"""
import argparse
import json
import math
import os
import subprocess
import sys
from multiprocessing import Pool

HERE = os.path.dirname(os.path.abspath(__file__))


def clone_events(base, truth):
    """The clone's events among the counted clusters' restricted-chain events, and among the normal
    plasma cells, from the analysis's per-event classes (--events-out) and the generator's labels."""
    import h5py
    import numpy as np
    with h5py.File(base + ".events.h5", "r") as f:
        classes = f["class"][:]
        names = [n.decode() if isinstance(n, bytes) else n for n in f["classes"][:]]
    labels = np.fromfile(base + ".labels", dtype=np.uint8)
    if len(labels) != len(classes):
        raise SystemExit(f"{base}.labels: {len(labels)} labels for {len(classes)} events")
    clone = labels == truth["labels"].index("clone") if "clone" in truth["labels"] else np.zeros(len(labels), bool)
    def among(name):
        return int((classes[clone] == names.index(name)).sum()) if name in names else 0
    return among("restricted-chain plasma cell of a counted cluster"), among("normal plasma cell")


def one(job):
    flowmrd, out, templates, condition, seed, mrd, extra, analyze_extra, trace = job
    path = os.path.join(out, f"{condition}-{seed}.fcs")
    subprocess.run([sys.executable, os.path.join(HERE, "independent_marrow.py"), path, "--seed", str(seed), "--mrd", str(mrd)] + extra,
                   check=True)
    env = dict(os.environ)
    if templates:
        env["FLOWMRD_TEMPLATES"] = templates
    base = path[:-4]
    events_out = ["--events-out", base + ".events.h5"] if trace else []
    run = subprocess.run([flowmrd, "analyze", path, "--no-checksum", "--quiet", "--json"] + events_out + analyze_extra,
                         capture_output=True, env=env)
    truth = json.load(open(base + ".truth.json"))
    traced = clone_events(base, truth) if trace and os.path.exists(base + ".events.h5") else None
    for suffix in (".fcs", ".labels", ".truth.json", ".events.h5"):
        if os.path.exists(base + suffix):
            os.remove(base + suffix)
    r = json.loads(run.stdout)["results"][0]["result"]
    off = [t["name"] for t in r["thresholds"] if t.get("switched_off") and not t["name"].startswith("rule:")]
    spread = [w.split("wider ")[1].split(" (")[0] for w in r["warnings"] if "spillover spreading" in w]
    ci = r.get("mrd_ci95_percent")
    return dict(seed=seed, condition=condition, clone=truth["clone_events"], nucleated=truth["nucleated"], call=r["call"],
                counted=r["aberrant_pc"]["count"], mrd=r.get("mrd_percent"), ci=ci, off=off, spread=spread,
                aberrancies=(truth["clone"] or {}).get("aberrancies"), chain=(truth["clone"] or {}).get("chain"), traced=traced)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("flowmrd")
    ap.add_argument("out")
    ap.add_argument("--templates")
    ap.add_argument("--normals", type=int, default=30)
    ap.add_argument("--clones", type=int, default=15)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--therapy", type=int, default=0)
    ap.add_argument("--skip", type=int, default=0,
                    help="start each condition after K blocks of its default seeds (30 normal, 10 regenerating, 15 per clone "
                         "level, 10 per therapy condition): seeds the call was never mended on")
    ap.add_argument("--deep", type=int, default=0, help="clones of 10⁻⁵ (seeds 1101…)")
    ap.add_argument("--events", type=int, help="events per file (the generator's default when absent)")
    ap.add_argument("--clone-events", action="store_true",
                    help="also where each clone's events went (the analysis's --events-out read with h5py against the labels): "
                         "columns clone_in_counted and clone_among_normal_pc, and the band misses split as in validate --matrix")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    conditions = [("normal", 1, a.normals, 0, [], []), ("regenerating", 301, a.normals // 3, 0, ["--regenerating"], []),
                  ("clone-1e-3", 101, a.clones, 0.001, [], []), ("clone-1e-4", 201, a.clones, 0.0001, [], [])]
    t = a.therapy
    conditions += [("anti-cd38", 401, t, 0, ["--anti-cd38"], []), ("anti-cd38-clone-1e-3", 451, t, 0.001, ["--anti-cd38"], []),
                   ("hemodiluted", 601, t, 0, None, []),
                   ("post-car-t", 701, t, 0, ["--no-normal-pc"], ["--context", "post-car-t"]),
                   ("post-car-t-clone-1e-3", 751, t, 0.001, ["--no-normal-pc"], ["--context", "post-car-t"]),
                   ("single-clone-1e-3", 901, t, 0.001, ["--aberrancies", "1"], []), ("clone-1e-2", 1001, t, 0.01, [], []),
                   ("clone-1e-5", 1101, a.deep, 0.00001, [], [])]
    # The default number of files per condition, by which --skip moves its first seed.
    default = {"normal": 30, "regenerating": 10, "clone-1e-3": 15, "clone-1e-4": 15}
    jobs = []
    for condition, first, count, mrd, extra, analyze_extra in conditions:
        first += a.skip * default.get(condition, 10)
        for s in range(first, first + count):
            # Hemodilution: 80-95% blood, spread over the seeds.
            e = extra if extra is not None else ["--hemodilution", "%.3f" % (0.80 + 0.15 * ((s * 37) % 100) / 100)]
            if a.events:
                e = e + ["--events", str(a.events)]
            jobs.append((a.flowmrd, a.out, a.templates, condition, s, mrd, e, analyze_extra, a.clone_events))
    with Pool(a.jobs) as pool:
        rows = pool.map(one, jobs)
    with open(os.path.join(a.out, "independent.tsv"), "w") as f:
        traced = ["clone_in_counted", "clone_among_normal_pc"] if a.clone_events else []
        f.write("\t".join(["condition", "seed", "clone_events", "nucleated", "call", "counted", "mrd_percent", "ci95", "gates_off",
                           "spreading", "aberrancies", "chain"] + traced) + "\n")
        for r in rows:
            extra = ["" if r["traced"] is None else str(v) for v in (r["traced"] or (None, None))] if a.clone_events else []
            f.write("\t".join([str(x) for x in (r["condition"], r["seed"], r["clone"], r["nucleated"], r["call"], r["counted"], r["mrd"],
                                                 "–".join(map(str, r["ci"] or [])), ",".join(r["off"]), "; ".join(r["spread"]),
                                                 ",".join(r["aberrancies"] or []), r["chain"] or "")] + extra) + "\n")
    negatives = [r for r in rows if r["clone"] == 0]
    positives = [r for r in rows if r["clone"] > 0]
    fp = [r for r in negatives if r["call"].startswith("positive")]
    ne = [r for r in rows if r["call"] == "not_evaluable"]
    found = [r for r in positives if r["call"].startswith("positive")]
    quantified = [r for r in found if r["mrd"] is not None]
    band = [r for r in quantified if abs(r["counted"] - r["clone"]) <= 1.96 * math.sqrt(r["clone"])]
    holds = [r for r in quantified if r["ci"] and r["ci"][0] <= 100 * r["clone"] / r["nucleated"] <= r["ci"][1]]
    spread = [r for r in rows if r["spread"]]
    if a.clone_events:
        # As validate --matrix: an undercount whose counted clusters miss more of the clone than the band's half-width is "lost".
        outside = [r for r in quantified if r not in band and r["traced"] is not None]
        lost = [r for r in outside if r["counted"] < r["clone"] and r["clone"] - r["traced"][0] > 1.96 * math.sqrt(r["clone"])]
        print(f"counts outside the band: {len(outside)}; undercounts whose counted clusters miss more of the clone than the band: "
              f"{len(lost)} ({sum(r['clone'] - r['traced'][0] for r in lost)} events, {sum(r['traced'][1] for r in lost)} among the "
              f"normal plasma cells); the rest hold it within that or overcount: {len(outside) - len(lost)}")
    print(f"MRD-negative files: {len(negatives)}; called positive: {len(fp)}; negative: {sum(r['call'] == 'negative' for r in negatives)}; "
          f"not evaluable: {sum(r['call'] == 'not_evaluable' for r in negatives)}")
    print(f"files with a clone: {len(positives)}; called positive: {len(found)} ({len(quantified)} quantified); not evaluable: "
          f"{sum(r['call'] == 'not_evaluable' for r in positives)}; negative: {sum(r['call'] == 'negative' for r in positives)}")
    print(f"quantified counts in the Poisson 95% band of truth: {len(band)} / {len(quantified)}; interval holding the truth: {len(holds)} / {len(quantified)}")
    print(f"not evaluable, by switched-off gate: " + ", ".join(f"{g} {sum(g in r['off'] for r in ne)}" for g in sorted({g for r in ne for g in r['off']})))
    print(f"files whose search left a spread marker uncut: {len(spread)}")
    by = {}
    for r in rows:
        by.setdefault(r["condition"], {}).setdefault(r["call"], 0)
        by[r["condition"]][r["call"]] += 1
    for condition, calls in by.items():
        print(f"  {condition}: " + ", ".join(f"{c} {k}" for c, k in sorted(calls.items())))
    diluted = [r for r in negatives if r["condition"] == "hemodiluted" and r["call"] == "negative"]
    if diluted:
        print(f"hemodiluted MRD-negative files called negative (a negative they cannot earn): {len(diluted)}")
    for r in fp + diluted + [r for r in positives if not r["call"].startswith("positive")] + [r for r in quantified if r not in band]:
        where = f", in the counted clusters {r['traced'][0]}, among normal PCs {r['traced'][1]}" if r["traced"] else ""
        print(f"  {r['condition']} {r['seed']}: {r['call']}, counted {r['counted']} of {r['clone']}{where}, off {r['off']}, {r['aberrancies']} {r['chain']}")


if __name__ == "__main__":
    main()
