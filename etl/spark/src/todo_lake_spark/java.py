"""Which Java runs Spark locally.

Spark 3.5 needs Java 8, 11 or 17; a newer JDK on the same machine makes it
fail at start-up (``getSubject is not supported``). Glue brings its own Java,
so this matters only off Glue.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from typing import Iterable, Optional

__all__ = ["SUPPORTED_JAVA_MAJORS", "java_home", "java_major"]

#: The Java major versions Spark 3.5 runs on, preferred first.
SUPPORTED_JAVA_MAJORS = (17, 11)

_CANDIDATE_GLOBS = (
    "/usr/lib/jvm/*",
    "/usr/local/opt/openjdk@*",
    "/Library/Java/JavaVirtualMachines/*/Contents/Home",
)


def java_major(home: str) -> Optional[int]:
    """The major version of the Java in ``home`` (from its ``release`` file), or None."""
    try:
        with open(os.path.join(home, "release"), encoding="utf-8") as release:
            for line in release:
                if line.startswith("JAVA_VERSION="):
                    version = line.split("=", 1)[1].strip().strip('"')
                    head = version.split(".")[0]
                    if head == "1":  # "1.8.0_402"
                        head = version.split(".")[1]
                    return int(head)
    except (OSError, ValueError, IndexError):
        return None
    return None


def _candidates() -> Iterable[str]:
    configured = os.environ.get("JAVA_HOME")
    if configured:
        yield configured
    for pattern in _CANDIDATE_GLOBS:
        yield from sorted(glob.glob(pattern))
    alternatives = shutil.which("update-alternatives")  # Debian's registry of Javas
    listed = []
    if alternatives:
        listed = subprocess.run(
            [alternatives, "--list", "java"], capture_output=True, text=True, check=False
        ).stdout.split()
    for java in listed:  # .../jvm/java-17-openjdk-amd64/bin/java
        yield os.path.dirname(os.path.dirname(os.path.realpath(java)))


def java_home() -> str:
    """A Java home Spark 3.5 runs on: ``JAVA_HOME`` if it is one, else the
    first Java 17 (then 11) found on the machine.

    Raises ``RuntimeError`` naming the Debian package to install if none is.
    """
    found = {}
    for home in _candidates():
        major = java_major(home)
        if major in SUPPORTED_JAVA_MAJORS and major not in found:
            found[major] = home
    for major in SUPPORTED_JAVA_MAJORS:
        if major in found:
            return found[major]
    raise RuntimeError(
        "Spark 3.5 needs Java 17 (or 11); none found. On Debian or Ubuntu:"
        " apt-get install openjdk-17-jre-headless"
    )
