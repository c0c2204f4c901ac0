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

A library's release (``todo-core``) re-releases every deployable that ships
it (:func:`dependents_of`, from the packages' dependencies), built from the
library's tag: release-please attributes commits by path, so a fix in
``shared/todo_core`` would otherwise never reach staging and prod.

Command line (the workflows call it)::

    python -m todo_platform.release targets todo-api     # --target=... lines
    python -m todo_platform.release excludes             # --exclude=... lines
    python -m todo_platform.release scope platform 0     # -> all (an empty stack)
    python -m todo_platform.release package todo-api-v1.2.0   # -> todo-api
    python -m todo_platform.release deployables          # one package per line
    RELEASE_PLEASE_OUTPUTS='{...}' python -m todo_platform.release released \
        --config release-please-config.json              # releases=[{package, tag}...]
    python -m todo_platform.release released --tag todo-api-v1.1.0   # redeploy (roll back)
    python -m todo_platform.release preview-summary preview.json prod --markdown out.md
                                                         # changes=true|false + summary

Only the standard library is used, so the release workflow runs it without
installing anything (``PYTHONPATH=platform/pulumi/src``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from todo_platform.artifacts import BY_PACKAGE, DEPLOYABLES, package_dependencies

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


def effective_scope(requested: str, resources_in_stack: int) -> str:
    """What a run may change: everything when the stack is empty (a first run).

    The platform scope excludes every function; in an empty stack the API
    integration, the event source mapping, the permissions and the alarms
    depend on functions that were never created, so it cannot succeed.
    """
    if requested not in ("all", "platform", "release"):
        raise ValueError(f"unknown scope {requested!r}")
    return "all" if resources_in_stack == 0 else requested


#: Preview operations that leave a resource as it is.
_NO_CHANGE_OPS = frozenset({"same", "read", "refresh"})


def summarize_preview(preview: Mapping[str, Any], stage: str) -> Tuple[bool, str]:
    """Whether a ``pulumi preview --json`` changes anything, and its Markdown summary.

    The prod apply job runs only when the preview it applies changes something,
    so a push that changes nothing in prod (documentation, another stage's
    settings) never waits for an approval.
    """
    summary = {k: v for k, v in (preview.get("changeSummary") or {}).items() if v}
    changed = [
        (step.get("op", "?"), step.get("urn", "?"))
        for step in preview.get("steps") or []
        if step.get("op") not in _NO_CHANGE_OPS
    ]
    has_changes = bool(changed) or any(op not in _NO_CHANGE_OPS for op in summary)
    lines = [f"### pulumi preview ({stage})", ""]
    lines.append(", ".join(f"{op}: {n}" for op, n in sorted(summary.items())) or "no resources")
    if changed:
        lines += ["", "| operation | resource |", "|---|---|"]
        lines += [
            f"| {op} | `{urn.split('::')[-1]}` ({urn.split('::')[-2]}) |" for op, urn in changed
        ]
    else:
        lines += ["", "No changes: nothing to apply."]
    return has_changes, "\n".join(lines) + "\n"


def dependents_of(library: str) -> List[str]:
    """The deployables that ship ``library`` (directly or through another package).

    A Glue job that can run on Spark also ships its Spark bundle's package
    (``todo-lake-spark``) and what that depends on.
    """
    found = []
    for deployable in DEPLOYABLES:
        seen = {deployable.spark_bundle} if deployable.spark_bundle else set()
        todo = [deployable.package, *seen]
        while todo:
            for dependency in package_dependencies(todo.pop()):
                if dependency not in seen:
                    seen.add(dependency)
                    todo.append(dependency)
        if library in seen:
            found.append(deployable.package)
    return found


def tag_releases(tag: str) -> List[Dict[str, str]]:
    """What deploying an existing tag deploys: its package, or a library's dependents."""
    package = package_of_tag(tag)
    if package in BY_PACKAGE:
        return [{"package": package, "tag": tag}]
    dependents = dependents_of(package)
    if not dependents:
        target_patterns(package)  # raises: deploys nothing
    return [{"package": d, "tag": tag} for d in dependents]


def package_of_tag(tag: str) -> str:
    """``todo-api-v1.2.0`` -> ``todo-api`` (release-please's component tags)."""
    match = _TAG.match(tag)
    if not match:
        raise ValueError(f"{tag!r} is not a <package>-v<semver> tag")
    return match.group("package")


def released_deployables(
    outputs: Mapping[str, Any], config: Mapping[str, Any]
) -> List[Dict[str, str]]:
    """The packages release-please just released that deploy something, with their tags.

    ``outputs`` are release-please-action's step outputs (``paths_released``
    and ``<path>--tag_name``); ``config`` is ``release-please-config.json``,
    which maps each path to its component (= package) name.
    """
    paths = outputs.get("paths_released") or "[]"
    releases: Dict[str, Dict[str, str]] = {}
    libraries = []
    for path in json.loads(paths) if isinstance(paths, str) else paths:
        package = config.get("packages", {}).get(path, {}).get("component")
        if package is None:
            continue
        tag = outputs.get(f"{path}--tag_name") or f"{package}-v{outputs[f'{path}--version']}"
        if package_of_tag(tag) != package:
            raise ValueError(f"tag {tag!r} does not belong to {package}")
        if package in BY_PACKAGE:
            releases[package] = {"package": package, "tag": tag}
        else:
            libraries.append((package, tag))
    # A library release (todo-core) changes what its dependents ship: they are
    # re-released from the library's tag, unless released themselves.
    for library, tag in libraries:
        for dependent in dependents_of(library):
            releases.setdefault(dependent, {"package": dependent, "tag": tag})
    return [releases[d.package] for d in DEPLOYABLES if d.package in releases]


def urn_glob_regex(pattern: str) -> re.Pattern[str]:
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
    summary = commands.add_parser(
        "preview-summary", help="changes=<bool> (GitHub output) and a Markdown summary file"
    )
    summary.add_argument("preview_json", type=Path)
    summary.add_argument("stage")
    summary.add_argument("--markdown", type=Path, required=True)
    scope = commands.add_parser("scope", help="the scope a run may use on this stack")
    scope.add_argument("requested")
    scope.add_argument("resources", type=int, help="resources in the stack now")
    released = commands.add_parser(
        "released", help="GitHub output line: the deployable packages just released"
    )
    released.add_argument("--config", default="release-please-config.json")
    released.add_argument("--outputs-env", default="RELEASE_PLEASE_OUTPUTS")
    released.add_argument("--tag", help="deploy this existing release tag instead")
    args = parser.parse_args(argv)
    try:
        if args.command == "targets":
            lines = [f"--target={p}" for p in target_patterns(args.package)]
        elif args.command == "excludes":
            lines = [f"--exclude={p}" for p in exclude_patterns()]
        elif args.command == "package":
            lines = [package_of_tag(args.tag)]
        elif args.command == "preview-summary":
            has_changes, markdown = summarize_preview(
                json.loads(args.preview_json.read_text() or "{}"), args.stage
            )
            args.markdown.write_text(markdown)
            lines = [f"changes={'true' if has_changes else 'false'}"]
        elif args.command == "scope":
            lines = [effective_scope(args.requested, args.resources)]
        elif args.command == "released":
            if args.tag:
                releases = tag_releases(args.tag)
            else:
                outputs = json.loads(os.environ.get(args.outputs_env) or "{}")
                releases = released_deployables(outputs, json.loads(Path(args.config).read_text()))
            lines = ["releases=" + json.dumps(releases)]
        else:
            lines = [d.package for d in DEPLOYABLES]
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
