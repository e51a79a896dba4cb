#!/usr/bin/env python3
"""The hot loop of each kernel in a cuobjdump -sass listing, counted.

For every kernel: the static instructions of its longest loop (the span from
a backward branch's target to the branch), how many of them are MUFU
(exponentials and reciprocals on the special-function units) and how many
branch. A static count is not a timing, but for a kernel that does the same
work per iteration it says what the GPU must issue per sample, on a machine
that has no GPU.

usage: cuobjdump -sass build/CMakeFiles/backprop_cuda_objects.dir/cuda/narrow_step.cu.o |
           bench/sass_loops.py [--mix] [NAME-FILTER]
--mix also lists each loop's opcodes by count (FFMA, MUFU.EX2, ...), with a
predicate's guard and an instruction's operands left out.
(cuobjdump ships with the CUDA toolkit, or: pip install nvidia-cuda-cuobjdump)
"""
import collections
import re
import subprocess
import sys

INSTRUCTION = re.compile(r"\s*/\*([0-9a-f]{4,})\*/\s+([^;]*);")
BRANCH_TARGET = re.compile(r"\bBRA\s+(?:`\()?.*?(0x[0-9a-f]+)")


def demangle(names):
    try:
        result = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True, check=True)
        return result.stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return names


def kernels(listing):
    """(mangled name, [(address, instruction)]) per function."""
    name, body = None, []
    for line in listing.splitlines():
        header = re.match(r"\s*Function : (\S+)", line)
        if header:
            if name:
                yield name, body
            name, body = header.group(1), []
            continue
        m = INSTRUCTION.match(line)
        if m and name:
            body.append((int(m.group(1), 16), m.group(2).strip()))
    if name:
        yield name, body


def longest_loop(body):
    best = []
    for address, op in body:
        m = BRANCH_TARGET.search(op)
        if m and int(m.group(1), 16) < address:
            target = int(m.group(1), 16)
            loop = [o for a, o in body if target <= a <= address]
            if len(loop) > len(best):
                best = loop
    return best


def opcode(instruction):
    """FFMA from '@!P0 FFMA R1, R2, R3, R4'."""
    words = instruction.split()
    return words[1] if words[0].startswith("@") else words[0]


def main():
    args = sys.argv[1:]
    mix = "--mix" in args
    args = [a for a in args if a != "--mix"]
    wanted = args[0] if args else ""
    rows = []
    for name, body in kernels(sys.stdin.read()):
        loop = longest_loop(body)
        if loop:
            mufu = sum("MUFU" in o for o in loop)
            branches = sum(re.search(r"\bBRA\b", o) is not None for o in loop)
            rows.append((name, loop, mufu, branches))
    names = demangle([r[0] for r in rows])
    print(f"{'instructions':>12} {'MUFU':>5} {'branches':>8}  kernel (longest loop)")
    for (_, loop, mufu, branches), name in zip(rows, names):
        name = re.sub(r"backprop::cuda::\(anonymous namespace\)::", "", name)
        if wanted in name:
            print(f"{len(loop):>12} {mufu:>5} {branches:>8}  {name}")
            if mix:
                counts = collections.Counter(opcode(o) for o in loop).most_common()
                print("              " + ", ".join(f"{n} {op}" for op, n in counts))


if __name__ == "__main__":
    main()
