"""Deterministic AWS Lambda zip artifacts for the workspace's Python packages.

One builder serves every Lambda of the monorepo::

    from todo_artifacts.lambda_artifact import build_lambda_zip
    zip_path = build_lambda_zip("todo-api", "services/todo-api", "dist/lambda")

or from the command line (``nox -s build`` does this for every Lambda)::

    python -m todo_artifacts.lambda_artifact --package todo-api [--out-dir dist/lambda]

What goes in, and why:

* third-party dependencies exactly as pinned in ``uv.lock`` (``uv export
  --frozen --no-emit-workspace``), installed for the Lambda platform, never
  for this machine: manylinux2014 x86_64 wheels for CPython 3.12, binary
  wheels only (``--only-binary :all:``), so nothing is compiled here;
* the package itself and the workspace libraries it depends on (todo_core)
  as real wheels built with ``uv build``, not editable links;
* nothing the function does not run: console scripts, ``RECORD`` files,
  ``.pyi`` stubs, ``__pycache__`` from the install, and (when the package
  declares which AWS services it calls) the API models of every other AWS
  service in botocore and boto3. Declare them in the package's pyproject::

      [tool.lambda-artifact]
      aws-services = ["dynamodb"]

  Without the declaration all of botocore's data is kept (it always works,
  it is just ~20 MB larger). A package may also list paths (globs relative
  to the zip root) of dependency code it never imports, as ``exclude``;
  its tests must then exercise the artifact (see services/todo-api);
* shared libraries stripped of their symbol tables (``strip
  --strip-unneeded``, when binutils is installed; ``strip-shared-libraries
  = false`` keeps them whole), as the Serverless Framework's "slim" packaging
  does: the debugging symbols are never used in Lambda;
* byte code compiled with ``--invalidation-mode checked-hash`` by default:
  Lambda's ``/var/task`` is read-only, so without shipped ``.pyc`` files
  every cold start recompiles every module it imports, and timestamp-based
  ``.pyc`` files are not reliable once zip extraction has changed the
  sources' modification times. ``--bytecode none`` ships sources only
  (services/todo-api's benchmarks compare the two).

The same inputs give the same bytes: entries are sorted, every timestamp is
1980-01-01, permissions are normalised, and the byte code embeds no path of
the build machine.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

LAMBDA_PYTHON = "3.12"
#: The function's architecture is x86_64 (see services/todo-api/README.md).
LAMBDA_PLATFORM = "x86_64-manylinux2014"
BYTECODE_MODES = ("checked-hash", "unchecked-hash", "none")
DEFAULT_BYTECODE = "checked-hash"
#: Where Lambda unpacks the zip; recorded in byte code instead of the build path.
LAMBDA_TASK_ROOT = "/var/task"
#: Zip timestamps cannot be earlier than 1980; a constant keeps builds reproducible.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

#: dist-info files that describe the installation, not the package: RECORD is
#: wrong after trimming anyway, direct_url.json holds a build-machine path.
_DIST_INFO_DROP = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "uv_cache.json"}
#: botocore/data files every client needs, whatever the service.
_BOTOCORE_SHARED_DATA = {
    "endpoints.json",
    "partitions.json",
    "sdk-default-configuration.json",
    "_retry.json",
}


class ArtifactError(RuntimeError):
    pass


@dataclass(frozen=True)
class ArtifactInfo:
    """What a built zip holds, for reports and benchmarks."""

    path: Path
    sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    files: int


# --- locating things -------------------------------------------------------------


def _load_toml(path: Path) -> Dict:
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # pragma: no cover - Python < 3.11
        import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
    with open(path, "rb") as handle:
        data: Dict = tomllib.load(handle)
    return data


def find_workspace_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` declaring a uv workspace."""
    for directory in [start.resolve(), *start.resolve().parents]:
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and "workspace" in _load_toml(candidate).get("tool", {}).get(
            "uv", {}
        ):
            return directory
    raise ArtifactError(f"no uv workspace found above {start}")


def workspace_members(root: Path) -> Dict[str, Path]:
    """``{distribution name: directory}`` for every member of the workspace at ``root``."""
    members: Dict[str, Path] = {}
    patterns = _load_toml(root / "pyproject.toml")["tool"]["uv"]["workspace"].get("members", [])
    for pattern in patterns:
        for directory in sorted(root.glob(pattern)):
            pyproject = directory / "pyproject.toml"
            if pyproject.is_file():
                members[_load_toml(pyproject)["project"]["name"]] = directory.resolve()
    return members


def find_uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    if not uv:
        raise ArtifactError("uv is required to build Lambda artifacts (https://docs.astral.sh/uv/)")
    return uv


def find_python(version: str = LAMBDA_PYTHON) -> str:
    """An interpreter of ``version`` (the runtime's), to compile byte code with."""
    if "{}.{}".format(*sys.version_info[:2]) == version:
        return sys.executable
    for candidate in (
        shutil.which(f"python{version}"),
        os.path.expanduser(f"~/.pyenv/versions/{version}/bin/python"),
        *sorted(Path(os.path.expanduser("~/.pyenv/versions")).glob(f"{version}.*/bin/python")),
    ):
        if candidate and os.path.exists(candidate):
            out = subprocess.run(
                [str(candidate), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode == 0 and out.stdout.strip() == version:
                return str(candidate)
    raise ArtifactError(f"no Python {version} interpreter found to compile byte code with")


def run_checked(args: Sequence[str], cwd: Path, env: Optional[Dict[str, str]] = None) -> str:
    """Run a build command; its stdout, or an ArtifactError carrying all it printed."""
    result = subprocess.run(
        list(args),
        cwd=str(cwd),
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if result.returncode != 0:
        raise ArtifactError(
            f"command failed ({result.returncode}): {' '.join(args)}\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def lambda_config(package_path: Path) -> Dict:
    """The package's ``[tool.lambda-artifact]`` table (may be empty)."""
    pyproject = package_path / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    config: Dict = _load_toml(pyproject).get("tool", {}).get("lambda-artifact", {})
    return config


# --- building ----------------------------------------------------------------------


def _export_requirements(uv: str, root: Path, package_name: str) -> Tuple[str, List[Path]]:
    """Third-party pins from the lock, and the workspace members the package needs."""
    common = [
        uv,
        "export",
        "--frozen",
        "--package",
        package_name,
        "--no-dev",
        "--no-hashes",
        "--format",
        "requirements-txt",
        "--no-header",
        "--no-annotate",
    ]
    third_party = run_checked([*common, "--no-emit-workspace"], root)
    members: List[Path] = []
    for line in run_checked([*common, "--no-editable"], root).splitlines():
        line = line.strip()
        if line.startswith("-e "):
            line = line[3:].strip()
        if line.startswith((".", "/")):
            members.append((root / line).resolve())
    return third_party, members


def _install(
    uv: str, root: Path, python: str, target: Path, requirements: str, wheels: Iterable[Path]
) -> None:
    requirements_file = target.parent / "requirements.txt"
    requirements_file.write_text(requirements, encoding="utf-8")
    run_checked(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--target",
            str(target),
            "--python",
            python,
            "--python-platform",
            LAMBDA_PLATFORM,
            "--python-version",
            LAMBDA_PYTHON,
            "--only-binary",
            ":all:",
            # The export is the complete, locked closure: resolve nothing else.
            "--no-deps",
            "--link-mode",
            "copy",
            "-r",
            str(requirements_file),
            *(str(w) for w in wheels),
        ],
        root,
    )


def _build_wheels(
    uv: str, root: Path, members: Dict[str, Path], wanted: Iterable[Path], out: Path
) -> List[Path]:
    by_path = {path: name for name, path in members.items()}
    for path in sorted(set(wanted)):
        name = by_path.get(path)
        if name is None:
            raise ArtifactError(f"{path} is not a member of the workspace at {root}")
        run_checked(
            [uv, "build", "--quiet", "--package", name, "--wheel", "--out-dir", str(out)], root
        )
    return sorted(out.glob("*.whl"))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _trim(target: Path, aws_services: Optional[Sequence[str]]) -> None:
    """Drop what the function never runs (see the module docstring)."""
    _remove(target / "bin")
    for pycache in sorted(target.rglob("__pycache__"), reverse=True):
        _remove(pycache)
    for path in sorted(target.rglob("*")):
        if not path.exists():
            continue
        if path.suffix in (".pyc", ".pyo", ".pyi") or (
            path.parent.name.endswith(".dist-info") and path.name in _DIST_INFO_DROP
        ):
            _remove(path)
    if aws_services is None:
        return
    keep = set(aws_services)
    botocore_data = target / "botocore" / "data"
    if botocore_data.is_dir():
        for entry in botocore_data.iterdir():
            if (entry.is_dir() and entry.name not in keep) or (
                entry.is_file() and entry.name not in _BOTOCORE_SHARED_DATA
            ):
                _remove(entry)
    boto3_data = target / "boto3" / "data"
    if boto3_data.is_dir():
        for entry in boto3_data.iterdir():
            if entry.name not in keep:
                _remove(entry)
    _remove(target / "boto3" / "examples")


def _exclude(target: Path, patterns: Sequence[str]) -> None:
    for pattern in patterns:
        if pattern.startswith("/") or ".." in Path(pattern).parts:
            raise ArtifactError(f"exclude patterns are relative to the zip root: {pattern!r}")
        for path in sorted(target.glob(pattern), reverse=True):
            _remove(path)


def _strip_shared_libraries(target: Path) -> int:
    """Strip symbol tables from ``*.so`` files; returns how many were stripped."""
    strip = shutil.which("strip")
    if strip is None:
        print(
            "lambda_artifact: 'strip' not found (binutils); shared libraries kept whole",
            file=sys.stderr,
        )
        return 0
    count = 0
    for library in sorted(target.rglob("*.so")):
        result = subprocess.run(
            [strip, "--strip-unneeded", str(library)], capture_output=True, check=False
        )
        count += result.returncode == 0
    return count


def _compile(python: str, target: Path, mode: str) -> None:
    if mode == "none":
        return
    run_checked(
        [
            python,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            mode,
            # Record /var/task paths, not this machine's temporary directory.
            "-s",
            str(target),
            "-p",
            LAMBDA_TASK_ROOT,
            str(target),
        ],
        target,
        # Python must not read its own ambient configuration into the result.
        env={"PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": "315532800"},
    )


def write_deterministic_zip(source: Path, destination: Path) -> None:
    """Zip ``source``'s files with sorted names, fixed times and normalised modes."""
    files = sorted(
        (p for p in source.rglob("*") if p.is_file()),
        key=lambda p: p.relative_to(source).as_posix(),
    )
    tmp = destination.with_name(destination.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=ZIP_EPOCH)
            executable = path.stat().st_mode & stat.S_IXUSR
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            info.create_system = 3  # unix, so the modes above are honoured
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as handle:
                archive.writestr(info, handle.read(), compresslevel=9)
    os.replace(tmp, destination)


def build_lambda_zip(
    package_name: str,
    package_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    bytecode: str = DEFAULT_BYTECODE,
    aws_services: Optional[Sequence[str]] = None,
    root: Optional[str | os.PathLike[str]] = None,
) -> Path:
    """Build ``<out_dir>/<package_name>.zip`` and return its path.

    ``aws_services`` overrides the package's ``[tool.lambda-artifact]
    aws-services`` (botocore models to keep); ``None`` reads the pyproject.
    """
    if bytecode not in BYTECODE_MODES:
        raise ArtifactError(f"bytecode must be one of {BYTECODE_MODES}, not {bytecode!r}")
    package_dir = Path(package_path).resolve()
    workspace = Path(root).resolve() if root else find_workspace_root(package_dir)
    config = lambda_config(package_dir)
    if aws_services is None:
        configured = config.get("aws-services")
        aws_services = list(configured) if configured is not None else None
    uv, python = find_uv(), find_python(LAMBDA_PYTHON)
    members = workspace_members(workspace)
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    destination = out / f"{package_name}.zip"

    with tempfile.TemporaryDirectory(prefix=f"lambda-{package_name}-") as tmp:
        work = Path(tmp)
        third_party, needed = _export_requirements(uv, workspace, package_name)
        wheels = _build_wheels(uv, workspace, members, [package_dir, *needed], work / "wheels")
        target = work / "task"
        target.mkdir()
        _install(uv, workspace, python, target, third_party, wheels)
        _trim(target, aws_services)
        _exclude(target, [str(p) for p in config.get("exclude", [])])
        if config.get("strip-shared-libraries", True):
            _strip_shared_libraries(target)
        _compile(python, target, bytecode)
        write_deterministic_zip(target, destination)
    return destination


def describe(path: str | os.PathLike[str]) -> ArtifactInfo:
    """Size and digest of a built zip."""
    path = Path(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        unzipped = sum(i.file_size for i in infos)
    return ArtifactInfo(path, digest, path.stat().st_size, unzipped, len(infos))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m todo_artifacts.lambda_artifact",
        description="Build a deterministic Lambda zip for a workspace package.",
    )
    parser.add_argument("--package", required=True, help="distribution name, e.g. todo-api")
    parser.add_argument("--path", help="package directory (default: found in the workspace)")
    parser.add_argument("--out-dir", default=os.path.join("dist", "lambda"))
    parser.add_argument("--bytecode", choices=BYTECODE_MODES, default=DEFAULT_BYTECODE)
    parser.add_argument(
        "--aws-service",
        action="append",
        dest="aws_services",
        default=None,
        help="botocore service model to keep (repeatable; default: the pyproject's list)",
    )
    parser.add_argument("--root", help="workspace root (default: found from the package path)")
    args = parser.parse_args(argv)

    root = Path(args.root).resolve() if args.root else find_workspace_root(Path.cwd())
    path = Path(args.path) if args.path else workspace_members(root).get(args.package)
    if path is None:
        parser.error(f"{args.package} is not a member of the workspace at {root}")
    zip_path = build_lambda_zip(
        args.package,
        path,
        args.out_dir,
        bytecode=args.bytecode,
        aws_services=args.aws_services,
        root=root,
    )
    info = describe(zip_path)
    print(
        f"{info.path}: {info.zipped_bytes / 1e6:.2f} MB zipped, "
        f"{info.unzipped_bytes / 1e6:.2f} MB unzipped, {info.files} files, sha256 {info.sha256}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
