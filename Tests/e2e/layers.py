#!/usr/bin/env python3
"""layers.py: the core's folders depend on each other without cycles, in the
order ARCHITECTURE.md gives (SwiftPM enforces the modules; this the folders).

A folder uses another when one of its files names a top-level declaration
(type, function, constant) made in exactly one file of the other, outside
comments and the text of multi-line strings (a page's HTML and JavaScript;
their interpolations count). Prints the
folder graph and any dependency outside the allowed order; exits 1 then."""
import collections
import os
import re
import sys

root = os.path.join(os.path.dirname(__file__), "..", "..", "Sources", "CharRNNCore")
# What each folder may use (besides itself).
allowed = {
    "Util": set(),
    "Tensor": {"Util"},
    "Text": {"Util", "Tensor"},
    "Model": {"Util"},
    "Backend": {"Util", "Model"},
    "Checkpoint": {"Util", "Tensor", "Text", "Model"},
    "Sample": {"Util", "Text", "Model", "Backend", "Checkpoint"},
    "Tools": {"Util", "Tensor", "Text", "Model", "Backend", "Checkpoint"},
    "Train": {"Util", "Tensor", "Text", "Model", "Backend", "Checkpoint", "Sample"},
}


def code_of(text):
    """The text without what multi-line string literals say (a page's HTML
    and JavaScript), keeping their interpolations \\(...)."""
    text = re.sub(r'#"""[\s\S]*?"""#', '""', text)

    def interpolations(m):
        body, out, i = m.group(0)[3:-3], [], 0
        while True:
            i = body.find("\\(", i)
            if i < 0:
                return '"' + " ".join(out) + '"'
            depth, j = 1, i + 2
            while j < len(body) and depth:
                depth += {"(": 1, ")": -1}.get(body[j], 0)
                j += 1
            out.append(body[i + 2:j - 1])
            i = j
    return re.sub(r'"""[\s\S]*?"""', interpolations, text)


decl = collections.defaultdict(set)
files = {}
for d, _, names in os.walk(root):
    for f in names:
        if f.endswith(".swift"):
            p = os.path.join(d, f)
            folder = os.path.relpath(d, root).split(os.sep)[0]
            text = open(p).read()
            files[p] = (folder, re.sub(r"//.*", "", code_of(text)))
            for m in re.finditer(r"^(?:public |final |private |fileprivate |@\w+ )*(?:struct|class|enum|protocol|typealias|func|let|var) +([A-Za-z_]\w*)", text, re.M):
                decl[folder].add(m.group(1))
owner = collections.defaultdict(set)
for folder, names in decl.items():
    for n in names:
        owner[n].add(folder)
problems = []
graph = collections.defaultdict(set)
for p, (folder, text) in files.items():
    if folder not in allowed:
        problems.append(f"{p}: folder {folder} is not in the layer list (layers.py, ARCHITECTURE.md)")
        continue
    for token in set(re.findall(r"\b[A-Za-z_]\w*\b", text)):
        homes = owner.get(token, set())
        if len(homes) != 1:
            continue
        (home,) = homes
        if home != folder:
            graph[folder].add(home)
            if home not in allowed[folder]:
                problems.append(f"{os.path.relpath(p, root)}: {folder} uses {token} from {home}")
for folder in sorted(graph):
    print(f"{folder} -> {', '.join(sorted(graph[folder]))}")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
