#!/usr/bin/env python3
"""Rewrites a little-endian float32 FCS 3.x file the way a BD instrument would store it:
big-endian ($BYTEORD 4,3,2,1) and the spillover under BD's SPILL keyword instead of $SPILLOVER.
The events are the same values, so the analysis must give the same gates and call.

    python3 Tests/peers/write_bd_bigendian.py IN.fcs OUT.fcs

Used for docs/benchmarks.md (the issue's second 10-million-event file).
"""
import sys

import numpy as np


def main():
    source, target = sys.argv[1], sys.argv[2]
    with open(source, "rb") as f:
        header = f.read(58)
        text_start, text_end = int(header[10:18]), int(header[18:26])
        f.seek(text_start)
        text = f.read(text_end - text_start + 1).decode("latin-1")
    delimiter = text[0]
    parts = text[1:].rstrip(delimiter).split(delimiter)
    keywords = list(zip(parts[0::2], parts[1::2]))
    values = {k.upper(): v for k, v in keywords}
    assert values["$DATATYPE"] == "F" and values["$BYTEORD"] == "1,2,3,4", "expects little-endian float32"
    events, channels = int(values["$TOT"]), int(values["$PAR"])
    data_start = int(values.get("$BEGINDATA", header[26:34]))
    data = np.memmap(source, dtype="<f4", mode="r", offset=data_start, shape=(events, channels))
    renamed = []
    for key, value in keywords:
        upper = key.upper()
        if upper in ("$BEGINDATA", "$ENDDATA"):
            continue
        if upper == "$BYTEORD":
            value = "4,3,2,1"
        if upper == "$SPILLOVER":
            key = "SPILL"
        renamed.append((key, value))
    body = "".join(f"{delimiter}{k}{delimiter}{v}" for k, v in renamed)
    # Offsets with a fixed width, so the text's length does not depend on them.
    start = 58
    for _ in range(2):
        text_out = body + f"{delimiter}$BEGINDATA{delimiter}{0:020d}{delimiter}$ENDDATA{delimiter}{0:020d}{delimiter}"
        begin = start + len(text_out)
        end = begin + events * channels * 4 - 1
        text_out = body + f"{delimiter}$BEGINDATA{delimiter}{begin:020d}{delimiter}$ENDDATA{delimiter}{end:020d}{delimiter}"
    head = b"FCS3.1    " + f"{start:8d}{start + len(text_out) - 1:8d}{0:8d}{0:8d}{0:8d}{0:8d}".encode()
    with open(target, "wb") as out:
        out.write(head)
        out.write(text_out.encode("latin-1"))
        step = 1 << 20
        for first in range(0, events, step):
            out.write(np.ascontiguousarray(data[first:first + step]).astype(">f4").tobytes())


if __name__ == "__main__":
    main()
