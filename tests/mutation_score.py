"""The mutation score per module of the last `make mutate` run, read from mutmut's mutants/.

Counts only the mutants `make mutate` asked for (the patterns given on the command line,
the same as `mutmut run`'s), and prints killed / total per module and overall. Mutants
listed in tests/mutation_equivalents.md as equivalent (no test can tell them apart from
the original) are left out of the total and counted on their own.

Usage: python tests/mutation_score.py [PATTERN ...]
"""

from __future__ import annotations

import fnmatch
import json
import re
import sys
from pathlib import Path

MUTANTS = Path("mutants")
EQUIVALENTS = Path(__file__).with_name("mutation_equivalents.md")
#: mutmut's exit codes that mean the tests noticed the mutant (a timeout counts: it hangs)
KILLED = {1, 3, 36, 37, -24, 24, 152, 255}
SURVIVED = {0}
NO_TESTS = {5, 33}


def equivalents() -> set[str]:
    """Mutant names listed as equivalent (`backticked` at the start of a list item)."""
    if not EQUIVALENTS.exists():
        return set()
    return set(re.findall(r"^- `([^`]+)`", EQUIVALENTS.read_text("utf-8"), re.MULTILINE))


def main(patterns: list[str]) -> int:
    metas = sorted(MUTANTS.rglob("*.py.meta"))
    if not metas:
        print("no mutation results: run `make mutate` first")
        return 1
    same = equivalents()
    rows = []
    totals = [0, 0, 0, 0, 0]  # killed, survived, no tests, not run yet, equivalent
    for meta in metas:
        module = str(meta.relative_to(MUTANTS))[: -len(".meta")]
        codes = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
        picked = {
            k: v
            for k, v in codes.items()
            if not patterns or any(fnmatch.fnmatch(k, p) for p in patterns)
        }
        if not picked:
            continue
        counts = [0, 0, 0, 0, 0]
        for name, code in picked.items():
            if name in same and (code in SURVIVED or code in NO_TESTS):
                counts[4] += 1
            elif code in KILLED:
                counts[0] += 1
            elif code in SURVIVED:
                counts[1] += 1
            elif code in NO_TESTS:
                counts[2] += 1
            elif code is None:
                counts[3] += 1
            else:  # suspicious, segfault, interrupted: a test did not pass cleanly either
                counts[0] += 1
        rows.append((module, counts))
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
    print(
        f"{'module':<36} {'killed':>7} {'survived':>8} {'no test':>7} {'not run':>7} {'equiv':>5} {'score':>6}"
    )
    for module, (k, s, n, o, e) in [*rows, ("total", totals)]:
        scored = k + s + n
        score = f"{100 * k / scored:5.1f}%" if scored else "    -"
        print(f"{module:<36} {k:>7} {s:>8} {n:>7} {o:>7} {e:>5} {score:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
