#!/usr/bin/env python3
"""Reads a JSON list of base64 XML documents (argv[1]) and writes, for each, expat's verdict and
element list (argv[2]): the independent reader XMLReaderTests compares FlowMRD's XML reader with."""
import sys, json, base64, xml.parsers.expat
def dump(data):
    """Well-formed (namespace-aware expat) verdict, then the element list from a namespace-unaware pass."""
    p = xml.parsers.expat.ParserCreate(namespace_separator='}')
    try:
        p.Parse(data, True)
    except xml.parsers.expat.ExpatError as e:
        return {"ok": False, "line": e.lineno, "error": str(e)}
    except (LookupError, ValueError) as e:   # an unknown declared encoding
        return {"ok": False, "line": 1, "error": str(e)}
    p = xml.parsers.expat.ParserCreate()
    out = []; stack = []
    def start(name, attrs):
        node = {"name": name, "line": p.CurrentLineNumber, "attributes": {k.split(':')[-1]: v for k, v in attrs.items() if k != 'xmlns' and not k.startswith('xmlns:')}, "text": "", "depth": len(stack)}
        out.append(node); stack.append(node)
    def end(name): stack.pop()
    def chars(t):
        if stack: stack[-1]["text"] += t
    p.StartElementHandler = start; p.EndElementHandler = end; p.CharacterDataHandler = chars
    p.Parse(data, True)
    return {"ok": True, "elements": out}
docs = json.load(open(sys.argv[1]))
json.dump([dump(base64.b64decode(d)) for d in docs], open(sys.argv[2], "w"))
