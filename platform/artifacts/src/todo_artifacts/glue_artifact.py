"""Deterministic AWS Glue (Python shell) artifacts for the ETL jobs.

    python -m todo_artifacts.glue_artifact --package todo-etl-silver [--out-dir dist/glue]

writes ``dist/glue/<package>/``:

* ``<module>.py`` - the script Glue runs (``ScriptLocation``). It only runs the
  job's entry module (``python -m todo_silver.job`` semantics), so the code
  that runs in Glue is the code the tests run locally;
* ``wheels/*.whl`` - the job package and the local libraries it depends on
  (todo_core and todo_lake, the lake library both jobs use), built with
  ``uv build``. Upload them and list their S3 URIs in
  ``--additional-python-modules``;
* ``requirements.txt`` - every third-party dependency pinned exactly as in
  ``etl/uv.lock``, for the Glue runtime (Python 3.9, Linux x86_64) only;
* ``glue-job.json`` - what the infrastructure code needs: script and wheel
  file names with their sha256, the pins as Glue's comma-separated
  ``--additional-python-modules`` value, the Python version.

The same sources and lock give the same bytes: files are written in sorted
order, JSON with sorted keys, and wheels are built reproducibly
(``SOURCE_DATE_EPOCH``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from todo_artifacts.lambda_artifact import (
    ArtifactError,
    find_uv,
    find_workspace_root,
    run_checked,
    workspace_members,
)

GLUE_PYTHON = "3.9"
GLUE_PYTHON_FULL = "3.9.18"
#: The Glue Python-shell job type for Python 3.9.
GLUE_COMMAND = "pythonshell"
#: Reproducible wheel timestamps (1980-01-01, the zip epoch).
SOURCE_DATE_EPOCH = "315532800"
#: The manifest the Pulumi program reads (``todo_platform.artifacts``).
MANIFEST = "glue-job.json"


def marker_environment(python_full_version: str) -> Dict[str, str]:
    """The environment a Glue worker (Linux x86_64, CPython) presents to marker evaluation."""
    return {
        "python_version": ".".join(python_full_version.split(".")[:2]),
        "python_full_version": python_full_version,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "os_name": "posix",
        "extra": "",
    }


#: The environment a Glue Python-shell 3.9 worker presents to marker evaluation.
GLUE_MARKER_ENVIRONMENT = marker_environment(GLUE_PYTHON_FULL)


def _marker_class():  # type: ignore[no-untyped-def]
    try:
        from packaging.markers import Marker
    except ImportError:  # pragma: no cover - pip always vendors it
        from pip._vendor.packaging.markers import Marker  # type: ignore[no-redef]
    return Marker


def glue_pins(export: str, environment: Optional[Dict[str, str]] = None) -> List[str]:
    """Third-party ``name==version`` lines of a ``uv export`` that apply to Glue's Python.

    ``environment`` is the worker's marker environment (default: the
    Python-shell 3.9 worker's).
    """
    marker = _marker_class()
    environment = environment or GLUE_MARKER_ENVIRONMENT
    pins = []
    for line in export.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-e", ".", "/")):
            continue
        requirement, _, condition = line.partition(";")
        if condition.strip() and not marker(condition.strip()).evaluate(environment):
            continue
        pins.append(requirement.strip())
    return sorted(pins, key=str.lower)


def local_requirements(export: str, root: Path) -> List[Path]:
    """Directories of the local packages (workspace members and path dependencies)."""
    paths = []
    for line in export.splitlines():
        line = line.strip()
        if line.startswith("-e "):
            line = line[3:].strip()
        if line.startswith((".", "/")):
            paths.append((root / line).resolve())
    return sorted(set(paths))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_requirements(uv: str, package: str, root: Path) -> str:
    """``package``'s runtime requirements as ``etl/uv.lock`` pins them (no dev groups)."""
    return run_checked(
        [
            uv,
            "export",
            "--frozen",
            "--package",
            package,
            "--no-dev",
            "--no-hashes",
            "--format",
            "requirements-txt",
            "--no-header",
            "--no-annotate",
        ],
        root,
    )


def write_wheels(uv: str, packages: List[Path], root: Path, target: Path) -> List[Tuple[str, str]]:
    """Build each local package's wheel reproducibly into ``target/wheels``; (name, sha256)."""
    with tempfile.TemporaryDirectory(prefix="glue-artifact-") as scratch:
        wheels_dir = Path(scratch) / "wheels"
        wheels_dir.mkdir()
        for path in packages:
            run_checked(
                [uv, "build", "--quiet", "--wheel", "--out-dir", str(wheels_dir), str(path)],
                root,
                env={"SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH},
            )
        if target.exists():
            shutil.rmtree(target)
        (target / "wheels").mkdir(parents=True)
        wheels: List[Tuple[str, str]] = []
        for wheel in sorted(wheels_dir.glob("*.whl")):
            shutil.copyfile(wheel, target / "wheels" / wheel.name)
            wheels.append((wheel.name, sha256(wheel)))
    return wheels


def write_manifest(target: Path, manifest: Dict[str, Any]) -> None:
    (target / MANIFEST).write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def job_script(module: str, package: str) -> str:
    return (
        f'"""Glue Python-shell entry point of {package} (generated; do not edit).\n\n'
        f"Glue runs this file with the job's arguments in sys.argv; it runs\n"
        f"``python -m {module}``, exactly as the job runs locally.\n"
        '"""\n'
        "import runpy\n\n"
        f'runpy.run_module("{module}", run_name="__main__", alter_sys=True)\n'
    )


def build_glue_artifact(
    package: str,
    package_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] = os.path.join("dist", "glue"),
    module: Optional[str] = None,
    root: Optional[Path] = None,
) -> Path:
    """Build ``<out_dir>/<package>/``; returns that directory."""
    package_path = Path(package_path).resolve()
    root = root or find_workspace_root(package_path)
    uv = find_uv()
    if module is None:
        module = package_path.joinpath("src").glob("*/job.py").__next__().parent.name + ".job"
    export = export_requirements(uv, package, root)
    pins = glue_pins(export)
    locals_ = local_requirements(export, root)
    if package_path not in locals_:
        raise ArtifactError(
            f"{package} ({package_path}) is not in its own export; wrong workspace?"
        )

    target = Path(out_dir).resolve() / package
    wheels = write_wheels(uv, locals_, root, target)
    script_name = module.replace(".", "_") + ".py"
    (target / script_name).write_text(job_script(module, package), encoding="utf-8")
    (target / "requirements.txt").write_text("".join(p + "\n" for p in pins), encoding="utf-8")
    write_manifest(
        target,
        {
            "package": package,
            "module": module,
            "command": GLUE_COMMAND,
            "python_version": GLUE_PYTHON,
            "script": {"file": script_name, "sha256": sha256(target / script_name)},
            "wheels": [{"file": f"wheels/{name}", "sha256": digest} for name, digest in wheels],
            "python_modules": pins,
            # Glue's --additional-python-modules: the wheel S3 URIs (known only
            # after upload) followed by these pins, comma-separated.
            "additional_python_modules_pins": ",".join(pins),
        },
    )
    return target


def find_etl_member(package: str, start: Optional[Path] = None) -> Optional[Path]:
    """The folder of ``package`` in the ETL workspace under ``start`` (default: the cwd)."""
    start = start or Path.cwd()
    for base in (start / "etl", start):
        if (base / "pyproject.toml").is_file():
            try:
                members = workspace_members(find_workspace_root(base))
            except ArtifactError:
                continue
            if package in members:
                return members[package]
    return None


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m todo_artifacts.glue_artifact",
        description="Build the Glue Python-shell artifact (script + wheels + pins) of an ETL job.",
    )
    parser.add_argument("--package", required=True, help="distribution name, e.g. todo-etl-silver")
    parser.add_argument("--path", help="package directory (default: found in the ETL workspace)")
    parser.add_argument("--module", help="entry module (default: <import package>.job)")
    parser.add_argument("--out-dir", default=os.path.join("dist", "glue"))
    parser.add_argument("--root", help="workspace root (default: found from the package path)")
    args = parser.parse_args(argv)

    path = Path(args.path) if args.path else find_etl_member(args.package)
    if path is None:
        parser.error(f"{args.package}: give --path (not a member of the ETL workspace here)")
    root = Path(args.root).resolve() if args.root else None
    target = build_glue_artifact(args.package, path, args.out_dir, module=args.module, root=root)
    manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    print(
        f"{target}: script {manifest['script']['file']}, {len(manifest['wheels'])} wheels, "
        f"{len(manifest['python_modules'])} pinned modules"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
