#!/usr/bin/env python3
"""Checks that the README's command-line examples print what the CLI prints.

Every fenced block in README.md whose first line is `$ build/backprop ARGS`
is run with the given command (the binary, after an emulator in a cross
build), and its other lines must be the command's standard output, line
for line. A table whose header ends in "seconds" (the
output of `compare`) is compared without that last column: timings vary.
Exits 1 naming the block and the first line that differs, so a README left
behind by a change in the numbers fails the tests.

Usage: readme_examples.py README.md [EMULATOR ...] path/to/backprop
"""
import shlex
import subprocess
import sys

PROMPT = "$ build/backprop "


def examples(readme_lines):
    """(line number, arguments, expected output lines) for each example block."""
    found = []
    block = None
    for number, line in enumerate(readme_lines, start=1):
        if line.startswith("```"):
            if block is None:
                block = (number, [])
            else:
                start, body = block
                if body and body[0].startswith(PROMPT):
                    found.append((start, shlex.split(body[0][len(PROMPT):]), body[1:]))
                block = None
        elif block is not None:
            block[1].append(line.rstrip("\n"))
    return found


def without_timings(lines):
    """The lines, less the last column of a table headed '... seconds'."""
    if not lines or not lines[0].split() or lines[0].split()[-1] != "seconds":
        return [line.rstrip() for line in lines]
    return [line.rstrip().rsplit(None, 1)[0] for line in lines]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    readme, command = sys.argv[1], sys.argv[2:]
    with open(readme, encoding="utf-8") as f:
        blocks = examples(f.readlines())
    if not blocks:
        print(f"{readme}: no '{PROMPT.strip()}' example found", file=sys.stderr)
        return 1
    failures = 0
    for start, args, expected in blocks:
        run = subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)
        shown = f"{readme}:{start}: `backprop {shlex.join(args)}`"
        if run.returncode != 0:
            print(f"{shown} exited {run.returncode}: {run.stderr.strip()}", file=sys.stderr)
            failures += 1
            continue
        want = without_timings(expected)
        got = without_timings(run.stdout.splitlines())
        if want == got:
            print(f"{shown}: {len(want)} lines as printed")
            continue
        failures += 1
        for i in range(max(len(want), len(got))):
            w = want[i] if i < len(want) else "(nothing)"
            g = got[i] if i < len(got) else "(nothing)"
            if w != g:
                print(f"{shown}: output line {i + 1} differs\n  README: {w}\n  prints: {g}", file=sys.stderr)
                break
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
