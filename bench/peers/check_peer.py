#!/usr/bin/env python3
"""Runs one peer on a small grid and checks the JSON it writes: one row per
configuration, named as backprop_bench names its rows, none with an error,
each with positive samples/s and 12 bytes a sample. Exits 77 (a test
skipped, with the reason on stderr) when the peer's package is not
installed, or torch.compile cannot compile on this machine.

usage: check_peer.py numpy|torch-cpu|torch-cpu-compile

torch-cpu also checks that --budget-seconds 0 skips every row, saying why.
torch-cpu-compile runs ten configurations, more than Dynamo's recompile
limit of eight: a peer that let Dynamo fall back to eager code after the
eighth would fail its last rows.
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

HIDDEN = [4, 8]
BATCH_LOG2 = [2, 4, 6, 8, 10]


def run_peer(package, which, out, extra=()):
    here = os.path.dirname(os.path.abspath(__file__))
    command = [sys.executable, os.path.join(here, package + "_peer.py"), out, "--min-seconds", "0.01",
               "--hidden"] + [str(h) for h in HIDDEN] + ["--batch-log2"] + [str(b) for b in BATCH_LOG2]
    if package == "torch":
        command += ["--variants", which]
    subprocess.run(command + list(extra), cwd=here, check=True)
    with open(out) as f:
        return [row for row in json.load(f)["benchmarks"] if row["name"].startswith("Step/")]


def main():
    which = sys.argv[1]
    package = "numpy" if which == "numpy" else "torch"
    if importlib.util.find_spec(package) is None:
        print("skipped: %s is not installed (pip install %s)" % (package, package), file=sys.stderr)
        return 77
    if which.endswith("-compile"):
        import torch
        try:
            torch.compile(lambda v: v * 2)(torch.ones(2))
        except Exception as e:  # noqa: BLE001 - a machine without a compiler for Inductor, say
            print("skipped: torch.compile cannot compile on this machine: %s" % str(e).splitlines()[0], file=sys.stderr)
            return 77
    tags = ["numpy-f32", "numpy-f64"] if which == "numpy" else [which]
    expected = ["Step/%s/h%d/%d" % (tag, h, 1 << b) for tag in tags for h in HIDDEN for b in BATCH_LOG2]
    with tempfile.TemporaryDirectory() as tmp:
        steps = run_peer(package, which, os.path.join(tmp, "peer.json"))
        if which == "torch-cpu":
            # A spent budget skips every later row, saying why, and is no failure.
            spent = run_peer(package, which, os.path.join(tmp, "spent.json"), ["--budget-seconds", "0"])
            assert [row["name"] for row in spent] == expected, spent
            for row in spent:
                assert row["error_message"] == "skipped: the run's --budget-seconds 0 were spent", row
    assert [row["name"] for row in steps] == expected, [row["name"] for row in steps]
    for row in steps:
        assert not row.get("error_occurred"), row
        assert row["samples_per_second"] > 0 and row["iterations"] >= 1, row
        assert abs(row["bytes_per_second"] - 12 * row["samples_per_second"]) <= 1e-9 * row["bytes_per_second"], row
    print("%s: %d rows checked" % (which, len(steps)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
