#!/usr/bin/env python3
"""An independent marrow generator, to test FlowMRD on files its own `synth` did not write.

Written apart from Sources/Synthetic, with its own model choices, so that an engine tuned to
`synth`'s constants would fail here:
- every population's medians, spreads and scatter are drawn per file from ranges chosen here
  (adult marrow as flow cytometry shows it), with heavy-tailed (Student t, 5 d.f.) spreads;
- marker levels are correlated within a cell (a shared "size/activation" factor);
- noise is photon (Poisson-like, proportional to √signal) plus electronic;
- the spillover matrix is drawn around typical BD values, channels are written in a shuffled
  order, and markers are named in $PnS with their fluorochrome ("CD38 BV510");
- normal plasma cells carry independent CD19−, CD56+, CD45−, CD27dim and CD81dim subsets, each
  cell with its own light chain (κ with probability r / (1 + r), r drawn per file);
- the clone, if any, is light-chain restricted with two to four aberrancies.

Usage: independent_marrow.py OUT.fcs --seed N [--events N] [--mrd F] [--regenerating]
                             [--anti-cd38] [--hemodilution F] [--no-normal-pc] [--aberrancies N]
- `--anti-cd38`: a therapeutic anti-CD38 antibody masks the CD38 epitope on every cell by 1-2
  decades and depletes NK cells and part of the normal plasma cells;
- `--hemodilution F`: a share F of the nucleated cells is peripheral blood (no precursors, mast
  cells, erythroblasts or plasma cells);
- `--no-normal-pc`: no normal plasma cell (after BCMA CAR-T);
- `--aberrancies N`: the clone has exactly N aberrancies (default: two to four).
Writes OUT.fcs, OUT.truth.json (clone events, nucleated events, the drawn parameters) and
OUT.labels (one byte per event: its population's index in the truth's `labels`).
Needs numpy.
"""
import argparse
import json
import numpy as np

FLUOR = ["FITC-A", "PE-A", "PE-Cy5.5-A", "PE-Cy7-A", "APC-A", "APC-A700-A", "APC-H7-A",
         "Pacific Blue-A", "BV510-A", "BV605-A"]
MARKER = {"FITC-A": "Kappa", "PE-A": "Lambda", "PE-Cy5.5-A": "CD117", "PE-Cy7-A": "CD19",
          "APC-A": "CD138", "APC-A700-A": "CD56", "APC-H7-A": "CD45", "Pacific Blue-A": "CD81",
          "BV510-A": "CD38", "BV605-A": "CD27"}
LABEL = {"FITC-A": "cyKappa FITC", "PE-A": "cyLambda PE", "PE-Cy5.5-A": "CD117 PE-Cy5.5",
         "PE-Cy7-A": "CD19 PE-Cy7", "APC-A": "CD138 APC", "APC-A700-A": "CD56 APC-A700",
         "APC-H7-A": "CD45 APC-H7", "Pacific Blue-A": "CD81 Pacific Blue", "BV510-A": "CD38 BV510",
         "BV605-A": "CD27 BV605"}
MARKERS = [MARKER[c] for c in FLUOR]
TOP = 262143.0


def populations(rng, regenerating):
    """Nucleated populations: (name, share range, FSC, SSC, {marker: log10 median}; a marker left out is autofluorescence only)."""
    u = rng.uniform
    bcp = (0.03, 0.12) if regenerating else (0.002, 0.015)
    return [
        ("neutrophils", (0.40, 0.62), (105e3, 135e3), (100e3, 150e3),
         {"CD45": u(3.75, 3.95), "CD38": u(2.4, 2.8), "CD81": u(2.3, 2.7)}),
        ("eosinophils", (0.01, 0.04), (105e3, 130e3), (150e3, 190e3), {"CD45": u(4.1, 4.3)}),
        ("monocytes", (0.03, 0.08), (110e3, 135e3), (50e3, 70e3),
         {"CD45": u(4.25, 4.45), "CD38": u(3.3, 3.6), "CD81": u(3.0, 3.3)}),
        ("T cells", (0.08, 0.18), (58e3, 72e3), (14e3, 22e3),
         {"CD45": u(4.45, 4.65), "CD38": u(2.8, 3.2), "CD27": u(3.5, 3.8), "CD81": u(3.2, 3.5)}),
        ("B cells", (0.01, 0.04), (56e3, 68e3), (12e3, 20e3),
         {"CD45": u(4.35, 4.55), "CD19": u(3.9, 4.2), "CD38": u(3.1, 3.4), "CD81": u(3.5, 3.8),
          "sIg": u(3.4, 3.8)}),
        ("NK cells", (0.01, 0.04), (62e3, 76e3), (18e3, 26e3),
         {"CD45": u(4.4, 4.6), "CD56": u(3.8, 4.1), "CD38": u(3.4, 3.7), "CD81": u(2.8, 3.1)}),
        ("myeloid precursors", (0.01, 0.05), (85e3, 100e3), (38e3, 60e3),
         {"CD45": u(3.5, 3.75), "CD117": u(3.6, 3.9), "CD38": u(3.8, 4.1), "CD81": u(3.2, 3.5)}),
        ("B-cell precursors", bcp, (50e3, 60e3), (10e3, 15e3),
         {"CD45": u(3.7, 3.95), "CD19": u(3.7, 4.0), "CD38": u(4.2, 4.45), "CD81": u(4.0, 4.3)}),
        ("mast cells", (0.00005, 0.0003), (115e3, 135e3), (70e3, 100e3),
         {"CD45": u(4.1, 4.3), "CD117": u(4.8, 5.0), "CD81": u(3.3, 3.6)}),
        ("erythroblasts", (0.05, 0.18), (55e3, 70e3), (9e3, 15e3), {"CD38": u(2.4, 2.8)}),
        ("basophils", (0.003, 0.01), (75e3, 90e3), (20e3, 30e3),
         {"CD45": u(3.9, 4.1), "CD38": u(3.6, 3.9)}),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--mrd", type=float, default=0.0, help="clone events as a share of nucleated events")
    ap.add_argument("--regenerating", action="store_true")
    ap.add_argument("--anti-cd38", action="store_true")
    ap.add_argument("--hemodilution", type=float, default=0.0)
    ap.add_argument("--no-normal-pc", action="store_true")
    ap.add_argument("--aberrancies", type=int)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    u = rng.uniform
    n = a.events

    # Non-nucleated shares of all events, the rest nucleated.
    f_ery, f_debris, f_doublet = u(0.02, 0.08), u(0.02, 0.06), u(0.01, 0.03)
    n_ery, n_debris, n_doublet = int(n * f_ery), int(n * f_debris), int(n * f_doublet)
    n_nuc = n - n_ery - n_debris - n_doublet

    pops = populations(rng, a.regenerating)
    pc_share = 10 ** u(np.log10(0.0005), np.log10(0.02))
    shares = np.array([u(*p[1]) for p in pops] + [pc_share])
    pop_names = [p[0] for p in pops] + ["normal plasma cells"]
    if a.anti_cd38:  # NK cells and normal plasma cells carry CD38 and are depleted
        shares[pop_names.index("NK cells")] *= u(0.05, 0.3)
        shares[-1] *= u(0.2, 1.0)
    if a.no_normal_pc:
        shares[-1] = 0.0
    shares /= shares.sum()
    if a.hemodilution > 0:  # blood: granulocytes, lymphocytes, monocytes; nothing marrow-only
        blood = {"neutrophils": u(0.5, 0.7), "eosinophils": u(0.01, 0.04), "basophils": u(0.003, 0.01),
                 "monocytes": u(0.04, 0.09), "T cells": u(0.15, 0.3), "B cells": u(0.02, 0.05), "NK cells": u(0.02, 0.06)}
        b = np.array([blood.get(nm, 0.0) for nm in pop_names])
        shares = (1 - a.hemodilution) * shares + a.hemodilution * b / b.sum()
    n_clone = int(round(a.mrd * n_nuc))
    counts = rng.multinomial(n_nuc - n_clone, shares)

    cols = {m: [] for m in MARKERS + ["FSC-A", "SSC-A"]}
    labels = []

    cd38_mask = u(1.0, 2.0) if a.anti_cd38 else 0.0

    def neg(k):
        return rng.normal(u(60, 160), u(40, 90), k)

    def draw(k, fsc, ssc, levels, spread=(0.12, 0.22)):
        t = rng.standard_t(5, (k, 1)) * 0.35  # a shared factor: larger cells stain brighter
        f, s_ = u(*fsc), u(*ssc)
        cols["FSC-A"].append(f * (1 + u(0.08, 0.13) * rng.standard_t(5, k)))
        cols["SSC-A"].append(np.abs(s_ * (1 + u(0.12, 0.2) * rng.standard_t(5, k))))
        for m in MARKERS:
            lv = levels.get(m)
            if lv is not None and m == "CD38" and a.anti_cd38:
                lv = np.asarray(lv, float) - cd38_mask
            if lv is None:
                cols[m].append(neg(k))
            else:
                lv = np.broadcast_to(np.asarray(lv, float), (k,))
                s = u(*spread)
                cols[m].append(10 ** (lv + s * (0.6 * rng.standard_t(5, k) + 0.4 * t[:, 0])))

    for (name, _, fsc, ssc, lv), k in zip(pops, counts[:-1]):
        lv = dict(lv)
        if name == "B cells":  # surface light chain, κ or λ per cell
            ig = lv.pop("sIg")
            kappa = rng.random(k) < 0.6
            lv["Kappa"] = np.where(kappa, ig, 2.2)
            lv["Lambda"] = np.where(kappa, 2.2, ig)
        if name == "T cells":  # a CD27-negative effector subset
            lv["CD27"] = np.where(rng.random(k) < u(0.15, 0.35), 2.2, lv["CD27"])
        draw(k, fsc, ssc, lv)
        labels += [name] * k

    # Normal plasma cells: independent subsets, each cell its own chain.
    k = counts[-1]
    ratio = u(1.2, 2.2)
    p = {"CD19-": u(0.2, 0.6), "CD56+": u(0.03, 0.3), "CD45-": u(0.1, 0.5), "CD27dim": u(0.05, 0.2), "CD81dim": u(0.05, 0.2)}
    pc = {"CD38": u(4.75, 5.0), "CD138": u(4.1, 4.4), "CD45": u(3.7, 3.95), "CD19": u(3.5, 3.8),
          "CD56": u(3.7, 4.0), "CD27": u(3.7, 3.95), "CD81": u(3.6, 3.85), "chain": u(4.4, 4.7)}
    pc_fsc, pc_ssc = (u(100e3, 120e3),) * 2, (u(45e3, 65e3),) * 2

    def pc_levels(k):
        r = rng.random
        lv = {"CD38": np.full(k, pc["CD38"]), "CD138": np.full(k, pc["CD138"]),
              "CD45": np.where(r(k) < p["CD45-"], 2.3, pc["CD45"]),
              "CD19": np.where(r(k) < p["CD19-"], 2.2, pc["CD19"]),
              "CD56": np.where(r(k) < p["CD56+"], pc["CD56"], 2.2),
              "CD27": np.where(r(k) < p["CD27dim"], pc["CD27"] - 0.6, pc["CD27"]),
              "CD81": np.where(r(k) < p["CD81dim"], pc["CD81"] - 0.6, pc["CD81"])}
        return lv

    lv = pc_levels(k)
    kappa = rng.random(k) < ratio / (1 + ratio)
    lv["Kappa"] = np.where(kappa, pc["chain"], 2.3)
    lv["Lambda"] = np.where(kappa, 2.3, pc["chain"])
    draw(k, pc_fsc, pc_ssc, lv)
    labels += ["normal plasma cells"] * k

    clone = None
    if n_clone > 0:
        choices = ["CD19-", "CD56+", "CD45-", "CD27-", "CD81-", "CD117+", "CD38dim"]
        m = a.aberrancies or int(rng.integers(2, 5))
        aberr = list(rng.choice(choices, m, replace=False))
        chain = "Kappa" if rng.random() < 0.5 else "Lambda"
        cl = {"CD38": pc["CD38"] - (u(0.4, 0.8) if "CD38dim" in aberr else u(-0.1, 0.1)),
              "CD138": pc["CD138"] + u(-0.1, 0.3),
              "CD45": 2.2 if "CD45-" in aberr else pc["CD45"] + u(-0.1, 0.1),
              "CD19": 2.2 if "CD19-" in aberr else pc["CD19"] + u(-0.1, 0.1),
              "CD56": u(4.0, 4.4) if "CD56+" in aberr else 2.2,
              "CD27": 2.2 if "CD27-" in aberr else pc["CD27"] + u(-0.1, 0.1),
              "CD81": 2.2 if "CD81-" in aberr else pc["CD81"] + u(-0.1, 0.1),
              "CD117": u(3.8, 4.2) if "CD117+" in aberr else None,
              chain: pc["chain"] + u(-0.1, 0.2)}
        cl = {k2: v for k2, v in cl.items() if v is not None}
        draw(n_clone, (u(105e3, 125e3),) * 2, (u(50e3, 70e3),) * 2, cl, spread=(0.1, 0.25))
        labels += ["clone"] * n_clone
        clone = {"events": n_clone, "aberrancies": aberr, "chain": chain}

    # Erythrocytes and debris.
    for name, kk, fsc, ssc in (("erythrocytes", n_ery, (18e3, 28e3), (4e3, 7e3)), ("debris", n_debris, (3e3, 9e3), (2e3, 6e3))):
        draw(kk, fsc, ssc, {})
        labels += [name] * kk

    X = {m: np.concatenate(v) for m, v in cols.items()}
    labels = np.array(labels)
    fsc_a = X["FSC-A"]
    fsc_h = fsc_a * rng.normal(u(0.78, 0.88), 0.025, len(fsc_a))

    # Doublets: two nucleated cells' signals summed; FSC-H stays near the larger cell's.
    nuc_idx = np.flatnonzero(~np.isin(labels, ["erythrocytes", "debris"]))
    i1, i2 = rng.choice(nuc_idx, n_doublet), rng.choice(nuc_idx, n_doublet)
    D = {m: X[m][i1] + X[m][i2] for m in X}
    D_h = np.maximum(fsc_h[i1], fsc_h[i2]) * u(1.0, 1.15)
    X = {m: np.concatenate([X[m], D[m]]) for m in X}
    fsc_h = np.concatenate([fsc_h, D_h])
    labels = np.concatenate([labels, np.array(["doublets"] * n_doublet)])

    # Spillover (rows: fluorochrome, columns: detector), photon and electronic noise.
    S = np.eye(10)
    spill = [("FITC-A", "PE-A", 0.12, 0.25), ("PE-A", "PE-Cy5.5-A", 0.05, 0.15), ("PE-A", "PE-Cy7-A", 0.01, 0.04),
             ("PE-Cy5.5-A", "PE-Cy7-A", 0.05, 0.12), ("APC-A", "APC-A700-A", 0.08, 0.2), ("APC-A700-A", "APC-H7-A", 0.05, 0.15),
             ("APC-A", "APC-H7-A", 0.01, 0.04), ("Pacific Blue-A", "BV510-A", 0.05, 0.15), ("BV510-A", "BV605-A", 0.04, 0.1),
             ("PE-A", "FITC-A", 0.0, 0.02), ("PE-Cy7-A", "APC-H7-A", 0.01, 0.05)]
    for src, dst, lo, hi in spill:
        S[FLUOR.index(src), FLUOR.index(dst)] = u(lo, hi)
    true = np.stack([X[MARKER[c]] for c in FLUOR], axis=1)
    obs = true @ S
    obs += rng.normal(0, 1, obs.shape) * np.sqrt(u(30, 80) ** 2 + u(1.0, 3.0) * np.clip(obs, 0, None))
    obs = np.clip(obs, -TOP, TOP)

    # Shuffle the events (acquisition order) and write times at 5,000-15,000 events/s.
    order = rng.permutation(len(labels))
    rate = u(5000, 15000)
    time = np.cumsum(rng.exponential(1 / rate, len(labels))) / 0.01
    scatter = {"FSC-A": np.clip(X["FSC-A"], 0, TOP), "FSC-H": np.clip(fsc_h, 0, TOP), "SSC-A": np.clip(X["SSC-A"], 0, TOP)}
    channels = [("FSC-A", "", scatter["FSC-A"]), ("FSC-H", "", scatter["FSC-H"]), ("SSC-A", "", scatter["SSC-A"])]
    channels += [(c, LABEL[c], obs[:, i]) for i, c in enumerate(FLUOR)]
    fl = channels[3:]
    rng.shuffle(fl)
    channels = channels[:3] + fl + [("Time", "", time)]
    data = np.stack([c[2][order] if c[0] != "Time" else c[2] for c in channels], axis=1).astype("<f4")
    labels = labels[order]

    # FCS 3.1, float32 little endian, $SPILLOVER over the fluorescence detectors in file order.
    fnames = [c[0] for c in fl]
    idx = [FLUOR.index(c) for c in fnames]
    spill_kw = ",".join([str(len(fnames))] + fnames + ["%.6g" % S[i, j] for i in idx for j in idx])
    kw = {"$BYTEORD": "1,2,3,4", "$DATATYPE": "F", "$MODE": "L", "$NEXTDATA": "0", "$PAR": str(len(channels)),
          "$TOT": str(len(labels)), "$TIMESTEP": "0.01", "$CYT": "independent_marrow.py", "$SPILLOVER": spill_kw}
    for i, (name, label, _) in enumerate(channels, 1):
        kw[f"$P{i}N"] = name
        kw[f"$P{i}B"] = "32"
        kw[f"$P{i}E"] = "0,0"
        kw[f"$P{i}R"] = "262144" if name != "Time" else str(int(time[-1]) + 1)
        if label:
            kw[f"$P{i}S"] = label
    body = data.tobytes()

    def text(begin_data):
        kw2 = dict(kw, **{"$BEGINDATA": str(begin_data), "$ENDDATA": str(begin_data + len(body) - 1),
                          "$BEGINANALYSIS": "0", "$ENDANALYSIS": "0", "$BEGINSTEXT": "0", "$ENDSTEXT": "0"})
        return ("|" + "|".join(f"{k}|{v}" for k, v in kw2.items()) + "|").encode()

    begin = 58 + len(text(10 ** 9)) + 10
    t = text(begin).ljust(begin - 58, b" ")
    end_text = 58 + len(t) - 1
    header = b"FCS3.1    " + b"%8d%8d%8d%8d%8d%8d" % (58, end_text, begin if begin + len(body) - 1 < 10 ** 8 else 0,
                                                       begin + len(body) - 1 if begin + len(body) - 1 < 10 ** 8 else 0, 0, 0)
    with open(a.out, "wb") as f:
        f.write(header + t + body)
    names = sorted(set(labels.tolist()))
    np.searchsorted(names, labels).astype(np.uint8).tofile(a.out.rsplit(".", 1)[0] + ".labels")
    nucleated = int(np.isin(labels, ["erythrocytes", "debris", "doublets"], invert=True).sum())
    truth = {"seed": a.seed, "events": int(len(labels)), "nucleated": nucleated,
             "clone_events": int((labels == "clone").sum()), "clone": clone,
             "normal_plasma_cells": int((labels == "normal plasma cells").sum()),
             "normal_kappa_lambda": ratio, "labels": names, "normal_subsets": p, "regenerating": a.regenerating,
             "anti_cd38_mask": cd38_mask, "hemodilution": a.hemodilution, "no_normal_pc": a.no_normal_pc}
    with open(a.out.rsplit(".", 1)[0] + ".truth.json", "w") as f:
        json.dump(truth, f, indent=1)


if __name__ == "__main__":
    main()
