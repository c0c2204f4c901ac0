"""Run a command; write its own peak RSS and run time to a file.

    python -m todo_lake_testing.peak_rss <report.json> <command> [args ...]

Why a launcher: Linux folds the spawning process's memory into a child's
``ru_maxrss`` (at exec, the memory the child was started from counts as
the child's: with vfork the parent's high-water mark, with fork its
resident pages). A benchmark process that generated events or built a
silver partition would pass that size on to every job it measured. This
small interpreter starts the command instead, so the floor is its own few
megabytes, and ``wait4`` gives the command's peak.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main() -> int:
    report, command = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    child = subprocess.Popen(command)  # stdin, stdout, stderr and cwd: this process's
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    with open(report, "w", encoding="utf-8") as handle:
        json.dump({"seconds": seconds, "peak_rss_kib": usage.ru_maxrss}, handle)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
