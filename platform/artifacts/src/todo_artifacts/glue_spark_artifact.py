"""Deterministic AWS Glue Spark (``glueetl``, Glue 5: Python 3.11) bundles of the ETL jobs.

    python -m todo_artifacts.glue_spark_artifact --package todo-etl-silver \
        [--out-dir dist/glue-spark]

A Glue job whose ``deployables.toml`` entry has a ``glue_spark_module``
(``todo_lake_spark.silver_job:main``) can run on Glue Spark. Its bundle is
that module's package (the ETL workspace member whose ``src/`` holds the
module's top-level package: ``todo_lake_spark`` -> ``todo-lake-spark``) with
everything it depends on. This writes ``dist/glue-spark/<job package>/``:

* ``<module>_<function>.py`` - the script Glue runs (``ScriptLocation``),
  generated here: it only calls the entry point, so the jobs' packages need
  no Glue-specific file, and the code Glue runs is the code the tests run;
* ``wheels/*.whl`` - the bundle package and the local packages it depends on
  (todo_core, todo_lake, todo_etl_silver, todo_etl_gold, todo_lake_spark),
  built reproducibly with ``uv build``;
* ``requirements.txt`` - every third-party runtime dependency pinned exactly
  as in ``etl/uv.lock``, for Glue 5's Python 3.11 on Linux x86_64. pyspark
  (and py4j) are never among them: Glue provides Spark, and a second pyspark
  would shadow it. pyspark is a test dependency of the Spark package only;
* ``glue-job.json`` - the manifest the Pulumi program reads: the entry
  point, the bundle package, script and wheel files with their sha256, the
  pins, the Python version.

Glue installs the wheels (by their S3 URIs) and the pins with
``--additional-python-modules``, on the driver and every executor, as it
does for the Python-shell jobs (README, "Glue Spark bundles": why not
``--extra-py-files``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from todo_artifacts import deployables
from todo_artifacts.glue_artifact import (
    MANIFEST,
    export_requirements,
    find_etl_member,
    glue_pins,
    local_requirements,
    marker_environment,
    sha256,
    write_manifest,
    write_wheels,
)
from todo_artifacts.lambda_artifact import (
    ArtifactError,
    find_uv,
    find_workspace_root,
    workspace_members,
)

#: Glue 5.x runs Spark 3.5 on Python 3.11 (any 3.11 patch release evaluates
#: the lock's markers alike).
GLUE_SPARK_PYTHON = "3.11"
GLUE_SPARK_PYTHON_FULL = "3.11.6"
GLUE_SPARK_MARKER_ENVIRONMENT = marker_environment(GLUE_SPARK_PYTHON_FULL)
#: The Glue job type of a Spark job.
GLUE_SPARK_COMMAND = "glueetl"
#: What the Glue Spark runtime provides and a bundle must never ship.
PROVIDED_BY_GLUE = frozenset({"pyspark", "py4j"})


def split_entry(entry: str) -> Tuple[str, str]:
    """``todo_lake_spark.silver_job:main`` -> (``todo_lake_spark.silver_job``, ``main``)."""
    module, sep, function = entry.partition(":")
    if not (sep and module and function.isidentifier()) or not all(
        part.isidentifier() for part in module.split(".")
    ):
        raise ArtifactError(f"{entry!r} is not a module:function entry point")
    return module, function


def bundle_member(module: str, members: Dict[str, Path]) -> Tuple[str, Path]:
    """The workspace member whose ``src/`` holds ``module``'s top-level package."""
    top = module.split(".")[0]
    found = [(name, path) for name, path in members.items() if (path / "src" / top).is_dir()]
    if len(found) != 1:
        where = ", ".join(name for name, _ in found) or "no member"
        raise ArtifactError(f"{top} must be in exactly one workspace member's src/ ({where})")
    return found[0]


def provided_pins(pins: List[str]) -> List[str]:
    """The pins Glue's runtime provides (a bundle holding one is refused)."""
    return [p for p in pins if p.split("==")[0].strip().lower() in PROVIDED_BY_GLUE]


def job_script(entry: str, package: str) -> str:
    module, function = split_entry(entry)
    return (
        f'"""Glue Spark entry point of {package} (generated; do not edit).\n\n'
        f"Glue runs this file with the job's arguments in sys.argv; it calls\n"
        f"``{entry}`` (installed from the job's wheels), as the job runs\n"
        "locally. A non-zero return fails the run; returning lets Glue mark it\n"
        "SUCCEEDED.\n"
        '"""\n'
        "import sys\n"
        "from importlib import import_module\n\n"
        f'code = import_module("{module}").{function}()\n'
        "if code:\n"
        "    sys.exit(code)\n"
    )


def build_glue_spark_artifact(
    package: str,
    entry: str,
    root: Path,
    out_dir: str | os.PathLike[str] = os.path.join("dist", "glue-spark"),
) -> Path:
    """Build ``<out_dir>/<package>/`` for job ``package`` (a member of the workspace ``root``)."""
    module, function = split_entry(entry)
    members = workspace_members(root)
    if package not in members:
        raise ArtifactError(f"{package} is not a member of the workspace at {root}")
    bundle, bundle_path = bundle_member(module, members)
    uv = find_uv()
    export = export_requirements(uv, bundle, root)
    pins = glue_pins(export, GLUE_SPARK_MARKER_ENVIRONMENT)
    shadowing = provided_pins(pins)
    if shadowing:
        raise ArtifactError(
            f"{bundle} would ship {shadowing}: the Glue Spark runtime provides them "
            "(keep pyspark a test dependency)"
        )
    locals_ = local_requirements(export, root)
    for name, path in ((bundle, bundle_path), (package, members[package])):
        if path not in locals_:
            raise ArtifactError(f"{bundle}'s export lacks {name} ({path}); does it depend on it?")

    target = Path(out_dir).resolve() / package
    wheels = write_wheels(uv, locals_, root, target)
    script_name = f"{module.replace('.', '_')}_{function}.py"
    (target / script_name).write_text(job_script(entry, package), encoding="utf-8")
    (target / "requirements.txt").write_text("".join(p + "\n" for p in pins), encoding="utf-8")
    write_manifest(
        target,
        {
            "package": package,
            "module": entry,
            "bundle": bundle,
            "command": GLUE_SPARK_COMMAND,
            "python_version": GLUE_SPARK_PYTHON,
            "script": {"file": script_name, "sha256": sha256(target / script_name)},
            "wheels": [{"file": f"wheels/{name}", "sha256": digest} for name, digest in wheels],
            "python_modules": pins,
            "additional_python_modules_pins": ",".join(pins),
        },
    )
    return target


def repository_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` holding ``deployables.toml``."""
    for directory in [start.resolve(), *start.resolve().parents]:
        if (directory / deployables.FILE_NAME).is_file():
            return directory
    raise ArtifactError(f"no {deployables.FILE_NAME} found above {start}")


def spark_entry(package: str, repo_root: Path) -> str:
    """``package``'s ``glue_spark_module`` in ``deployables.toml``."""
    for entry in deployables.load(repo_root):
        if entry["name"] == package and entry.get("glue_spark_module"):
            return str(entry["glue_spark_module"])
    raise ArtifactError(f"{package} has no glue_spark_module in {deployables.FILE_NAME}")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m todo_artifacts.glue_spark_artifact",
        description="Build the Glue Spark bundle (launcher + wheels + pins) of an ETL job.",
    )
    parser.add_argument("--package", required=True, help="the job's package, e.g. todo-etl-silver")
    parser.add_argument("--entry", help="module:function (default: its glue_spark_module)")
    parser.add_argument("--out-dir", default=os.path.join("dist", "glue-spark"))
    parser.add_argument("--repo-root", help="where deployables.toml is (default: found upwards)")
    args = parser.parse_args(argv)
    try:
        repo_root = Path(args.repo_root) if args.repo_root else repository_root(Path.cwd())
        entry = args.entry or spark_entry(args.package, repo_root)
        path = find_etl_member(args.package, repo_root)
        if path is None:
            raise ArtifactError(f"{args.package} is not a member of the ETL workspace")
        target = build_glue_spark_artifact(
            args.package, entry, find_workspace_root(path), args.out_dir
        )
    except ArtifactError as exc:
        parser.error(str(exc))
    manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    print(
        f"{target}: {manifest['bundle']} bundle, script {manifest['script']['file']}, "
        f"{len(manifest['wheels'])} wheels, {len(manifest['python_modules'])} pinned modules"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
