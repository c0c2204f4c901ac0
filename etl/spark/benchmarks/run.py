"""The Spark engine's benchmarks: one part per transform, one section each.

    python benchmarks/run.py --out benchmarks/RESULTS.md [PART ...]

Each part (``benchmarks/<part>.py``: ``silver``, ``gold``) measures its job
on Spark against the Python-shell engine in the same run and writes its
section to ``benchmarks/RESULTS-<part>.md``; RESULTS.md is those sections
in order. A part not named keeps the figures of its last run.
"""

from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PARTS = ("silver", "gold")


def main() -> int:
    argv = sys.argv[1:]
    out = os.path.join(HERE, "RESULTS.md")
    if "--out" in argv:
        at = argv.index("--out")
        out = argv[at + 1]
        argv = argv[:at] + argv[at + 2 :]
    chosen = [p for p in PARTS if not argv or p in argv]
    for part in chosen:
        script = os.path.join(HERE, f"{part}.py")
        if os.path.exists(script):
            subprocess.run(
                [sys.executable, script, "--out", os.path.join(HERE, f"RESULTS-{part}.md")],
                check=True,
            )
    sections = []
    for part in PARTS:
        path = os.path.join(HERE, f"RESULTS-{part}.md")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                sections.append(handle.read().strip())
    with open(out, "w", encoding="utf-8") as handle:
        handle.write("\n\n".join(sections) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
