#!/usr/bin/env python3
"""Checks the peers' shared helpers that need neither NumPy nor PyTorch:
which line of an error a skipped or failed row quotes."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import mentions_memory, reason_line  # noqa: E402

failures = 0


def expect(what, got, wanted):
    global failures
    if got != wanted:
        failures += 1
        print("FAILED: %s: got %r, wanted %r" % (what, got, wanted), file=sys.stderr)


# torch.compile's wrapping of an allocation failure inside a compilation.
compiled = RuntimeError("backend='inductor' raised:\nRuntimeError: CUDA out of memory. Tried to allocate 256.00 GiB\n\n"
                        "Set TORCH_LOGS=\"+dynamo\" for more")
expect("a wrapped error quotes its memory line", reason_line(compiled),
       "RuntimeError: CUDA out of memory. Tried to allocate 256.00 GiB")
expect("the host's allocation failure counts as memory",
       mentions_memory("DefaultCPUAllocator: can't allocate memory: you tried 68719476736 bytes"), True)
expect("another error quotes its first line", reason_line(ValueError("shapes differ\nat layer 1")), "shapes differ")
expect("another error is not memory", mentions_memory("shapes differ\nat layer 1"), False)
expect("an empty message gives the error's type", reason_line(KeyError()), "KeyError")
sys.exit(1 if failures else 0)
