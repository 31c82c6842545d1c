#!/usr/bin/env python3
"""FlowKit doing the work of `flowmrd bench gate`, on the same file and the same gates.

    flowmrd bench make-file /tmp/legend2-10m.fcs --panel legend2 --spillover --events 10000000
    flowmrd bench gate /tmp/legend2-10m.fcs --export-gating-ml /tmp/bench-tree.xml
    pip install flowkit==1.3.2
    python3 Tests/peers/flowkit_bench_gate.py /tmp/legend2-10m.fcs /tmp/bench-tree.xml

Prints the load and gating times, the peak RSS, and each gate's count, so the counts can be
compared with flowmrd's (they must agree: same compensation, logicle and gates).
"""
import resource
import sys
import time

import flowkit as fk


def main():
    fcs_path, gml_path = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    sample = fk.Sample(fcs_path, sample_id="bench")
    t1 = time.perf_counter()
    strategy = fk.parse_gating_xml(gml_path)
    results = strategy.gate_sample(sample)
    t2 = time.perf_counter()
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"flowkit {fk.__version__}: load {t1 - t0:.2f} s, gate {t2 - t1:.2f} s, total {t2 - t0:.2f} s, peak RSS {peak_gib:.1f} GiB")
    report = results.report
    for _, row in report.iterrows():
        print(f"  {row['gate_path']} {row['gate_name']}: {row['count']}")


if __name__ == "__main__":
    main()
