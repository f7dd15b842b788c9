#!/usr/bin/env python3
"""Peak RSS of a command, for machines without GNU /usr/bin/time.

  python3 bench/peakrss.py -o FILE CMD [ARGS...]

Runs CMD, then writes its peak resident set size to FILE in the words of
`/usr/bin/time -v` ("Maximum resident set size (kbytes): N"), so bench/run.sh
reads either the same way. Exits with CMD's status.
"""
import resource
import subprocess
import sys

if len(sys.argv) < 4 or sys.argv[1] != "-o":
    sys.exit("usage: peakrss.py -o FILE CMD [ARGS...]")
status = subprocess.call(sys.argv[3:])
kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
with open(sys.argv[2], "w") as f:
    f.write(f"\tMaximum resident set size (kbytes): {kib}\n")
sys.exit(status if status >= 0 else 128 - status)
