"""Release units: which resources carry a service's code, as Pulumi URN patterns.

The delivery pipelines split one stack's changes in two:

* a **service release** (tag ``<package>-v<version>``) deploys only that
  package's code: ``pulumi up --target <pattern>...`` with
  :func:`target_patterns` (the Lambda function; or the Glue job, its script
  and its wheels);
* the **platform train** (every push to main) deploys everything else to
  staging and prod: ``pulumi up --exclude <pattern>...`` with
  :func:`exclude_patterns`, so service code reaches those stages only through
  its own release. Dev takes everything from main.

Patterns use Pulumi's URN globs: ``**`` matches anything, ``*`` anything but
``:``. They name logical names only, which the program takes from
``todo_platform.artifacts`` as well, so the two cannot drift apart (and
tests/test_release.py matches them against every resource of the program).

Command line (the workflows call it)::

    python -m todo_platform.release targets todo-api     # --target=... lines
    python -m todo_platform.release excludes             # --exclude=... lines
    python -m todo_platform.release package todo-api-v1.2.0   # -> todo-api
    python -m todo_platform.release deployables          # one package per line
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import List, Optional

from todo_platform.artifacts import BY_PACKAGE, DEPLOYABLES

_TAG = re.compile(r"^(?P<package>[a-z0-9][a-z0-9-]*?)-v(?P<version>\d+\.\d+\.\d+\S*)$")


def target_patterns(package: str) -> List[str]:
    """URN patterns of the resources that carry ``package``'s code."""
    try:
        deployable = BY_PACKAGE[package]
    except KeyError:
        raise ValueError(
            f"{package!r} deploys nothing; deployable packages: {sorted(BY_PACKAGE)}"
        ) from None
    return [f"**::{name}" for name in deployable.code_logical_names]


def exclude_patterns() -> List[str]:
    """URN patterns of every service's code (what the platform train leaves alone)."""
    return [p for d in DEPLOYABLES for p in target_patterns(d.package)]


def package_of_tag(tag: str) -> str:
    """``todo-api-v1.2.0`` -> ``todo-api`` (release-please's component tags)."""
    match = _TAG.match(tag)
    if not match:
        raise ValueError(f"{tag!r} is not a <package>-v<semver> tag")
    return match.group("package")


def urn_glob_regex(pattern: str) -> "re.Pattern[str]":
    """The regular expression Pulumi compiles a ``--target``/``--exclude`` glob into."""
    segments = [
        "[^:]*".join(re.escape(part) for part in segment.split("*"))
        for segment in pattern.split("**")
    ]
    return re.compile("^" + ".*".join(segments) + "$")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m todo_platform.release")
    commands = parser.add_subparsers(dest="command", required=True)
    targets = commands.add_parser("targets", help="--target arguments for one package")
    targets.add_argument("package")
    commands.add_parser("excludes", help="--exclude arguments for every package's code")
    tag = commands.add_parser("package", help="the package a release tag belongs to")
    tag.add_argument("tag")
    commands.add_parser("deployables", help="the packages that deploy something")
    args = parser.parse_args(argv)
    try:
        if args.command == "targets":
            lines = [f"--target={p}" for p in target_patterns(args.package)]
        elif args.command == "excludes":
            lines = [f"--exclude={p}" for p in exclude_patterns()]
        elif args.command == "package":
            lines = [package_of_tag(args.tag)]
        else:
            lines = [d.package for d in DEPLOYABLES]
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
