#!/usr/bin/env python3
"""options.py BIN_DIR MAN_DIR: each tool's man page lists the options its
--help lists (rnn-ckpt: per command), and says every default --help shows.

For every tool (and every rnn-ckpt command): the long option names of
`TOOL --help` must equal those of the man page's `.It Fl ...` entries in
its OPTIONS section (rnn-ckpt: its COMMANDS section's entry for the
command); for each option whose help shows a default ("(default X)" or
"(default: X)"), the man page's entry for it must mention "default" and X.
Prints one line per problem and exits 1 if there are any."""
import re
import subprocess
import sys

bin_dir, man_dir = sys.argv[1], sys.argv[2]
problems = []


shorts = {}   # --output -> -o


def help_options(args):
    text = subprocess.run(args + ["--help"], capture_output=True, text=True).stdout
    section = text.split("OPTIONS:", 1)[1] if "OPTIONS:" in text else ""
    entries = {}
    current = None
    for line in section.splitlines():
        m = re.match(r"^  (?:(-\w), )?(--[a-z0-9-]+)", line)
        if m:
            current = m.group(2)
            entries[current] = line
            if m.group(1):
                shorts[current] = m.group(1)
        elif current and line.startswith("      "):
            entries[current] += " " + line.strip()
        elif not line.strip():
            current = None
    defaults = {}
    for name, body in entries.items():
        m = re.search(r"\(default:? ([^)]*)\)", body)
        if m and not m.group(1).startswith("the "):   # "(default: the cores ...)" is prose
            defaults[name] = m.group(1).strip()
    return set(entries) - {"--help", "--version"}, defaults


def man_entries(page, start, end):
    """{option: text of its .It entry} between the lines matching start and end."""
    lines = open(page).read().splitlines()
    try:
        i = next(n for n, l in enumerate(lines) if re.match(start, l))
    except StopIteration:
        problems.append(f"{page}: no section matching {start}")
        return {}
    j = next((n for n in range(i + 1, len(lines)) if re.match(end, lines[n])), len(lines))
    entries, current = {}, None
    for line in lines[i + 1:j]:
        if line.startswith(".It Fl"):
            names = re.findall(r"Fl (-[a-z0-9-]+)", line)
            longs = ["-" + n for n in names if n.startswith("-")]
            current = longs[0] if longs else None
            if current:
                entries[current] = ""
        elif current is not None:
            entries[current] += " " + re.sub(r"^\.\w+ ", "", line)
    return entries


def section_mentions(page, start, end):
    """{option: the section's text} for every option the section names
    (rnn-ckpt describes a command's options in prose under its heading)."""
    lines = open(page).read().splitlines()
    i = next(n for n, l in enumerate(lines) if re.match(start, l))
    j = next((n for n in range(i + 1, len(lines)) if re.match(end, lines[n])), len(lines))
    text = " ".join(re.sub(r"^\.\w+ ", "", l) for l in lines[i:j])
    names = {"-" + n for n in re.findall(r"Fl (-[a-z0-9-]+)", " ".join(lines[i:j]))}
    names |= {"-" + n for n in re.findall(r"Fl ([a-z])\b", " ".join(lines[i:j]))}   # short forms
    return {n: text for n in names}


def mentions(body, value):
    """Whether the man text gives the value: as written, as the same number,
    or stdout as "standard output"."""
    if value in body:
        return True
    if value == "stdout" and "standard output" in body:
        return True
    try:
        x = float(value)
    except ValueError:
        return False
    return any(float(n) == x for n in re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?:e-?\d+)?", body))


def check(what, args, page, start, end, prose=False):
    names, defaults = help_options(args)
    man = section_mentions(page, start, end) if prose else man_entries(page, start, end)
    man_names = set(man) - {"--help", "--version"}
    for n in sorted(names):
        if n not in man_names and shorts.get(n) not in man_names:
            problems.append(f"{what}: {n} is in --help but not in {page}")
    if not prose:   # prose also names other tools' options
        for n in sorted(man_names - names):
            problems.append(f"{what}: {n} is in {page} but not in --help")
    for n, d in defaults.items():
        body = man.get(n, "") or man.get(shorts.get(n, ""), "")
        said = "default" in body or (d == "stdout" and ("standard output without" in body or "else to standard output" in body))
        if not said or not mentions(body, d):
            problems.append(f"{what}: {page} does not give {n}'s default {d!r} (--help does)")


for tool in ["rnn-vocab", "rnn-encode", "rnn-train", "rnn-sample"]:
    check(tool, [f"{bin_dir}/{tool}"], f"{man_dir}/{tool}.1", r"^\.Sh OPTIONS", r"^\.Sh ")
for command in ["info", "ls", "best", "vocab", "eval", "trace", "export", "strip", "plot", "prune", "devices"]:
    check(f"rnn-ckpt {command}", [f"{bin_dir}/rnn-ckpt", command], f"{man_dir}/rnn-ckpt.1",
          rf"^\.Ss {command}\b", r"^\.S[sh] ", prose=True)

for p in problems:
    print(p)
print(f"options: {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
