"""The deployable packages and the built artifacts the program ships.

``python3 noxfile.py -s build`` writes every artifact under ``dist/``:

* a Lambda zip per function: ``dist/lambda/<package>.zip``;
* a directory per Glue job: ``dist/glue/<package>/`` holding the job script,
  the wheels of the job and its local libraries, and ``glue-job.json``, the
  builder's manifest (script and wheel files with their sha256, the entry
  module, the exact third-party pins for ``--additional-python-modules``);
* for each Glue job that can run on Glue Spark (a ``glue_spark_module``):
  ``dist/glue-spark/<package>/``, the same layout for Glue 5 (Python 3.11):
  a generated launcher of the Spark entry point, the Spark package's wheels
  and everything it depends on, and the pins (never pyspark: Glue provides it).

The program never builds anything: it checks that every artifact is there
before it declares a single resource, and fails with one message naming every
missing file and the command that builds it.

Each deployable also names the Pulumi resources that carry its code (the
"release unit"); ``todo_platform.release`` turns them into ``--target`` and
``--exclude`` patterns, so a service release deploys exactly its own code.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Literal, Optional, Tuple

import tomllib

BUILD_COMMAND = "python3 noxfile.py -s build"
#: The Glue builder's manifest (``todo_artifacts.glue_artifact``).
GLUE_MANIFEST = "glue-job.json"
GLUE_PYTHON_VERSION = "3.9"
#: Glue 5's Spark runtime Python (``todo_artifacts.glue_spark_artifact``).
GLUE_SPARK_PYTHON_VERSION = "3.11"


#: Logical-name prefix of the resources a stage declares in its second region
#: (the warm-standby API and its function).
STANDBY_PREFIX = "standby-"


@dataclass(frozen=True)
class Deployable:
    """A package of the monorepo that runs in AWS."""

    package: str
    kind: Literal["lambda", "glue"]
    #: Lambda: the handler setting; Glue: the entry module the job script runs.
    entry: str
    #: Short key used in the logical names of the package's resources (its
    #: ``[tool.todo-platform] resource-key``; changing it replaces them).
    key: str
    #: Its folder, relative to the repository root.
    path: str = ""
    #: Glue jobs that can also run on Glue Spark: the Spark entry point
    #: (``module:function``, ``deployables.toml``'s ``glue_spark_module``).
    spark_entry: Optional[str] = None
    #: The package whose bundle runs ``spark_entry`` (the one whose ``src/``
    #: holds the entry module's top-level package: ``todo-lake-spark``).
    spark_bundle: Optional[str] = None
    #: That package's folder (its ``[tool.todo-platform]`` may declare actions of its own).
    spark_bundle_path: str = ""

    # Logical names of the resources that carry the package's code.
    @property
    def function_logical_name(self) -> str:
        return f"{self.key}-function"

    @property
    def alias_logical_name(self) -> str:
        """The alias a function's callers invoke, where the stage publishes versions."""
        return f"{self.key}-alias"

    @property
    def job_logical_name(self) -> str:
        return f"{self.key}-job"

    @property
    def script_logical_name(self) -> str:
        return f"{self.key}-script"

    def wheel_logical_name(self, wheel_file: str) -> str:
        return f"{self.key}-wheel-{wheel_file}"

    @property
    def code_logical_names(self) -> Tuple[str, ...]:
        """Logical-name patterns (``*`` = any run of characters without ``:``)."""
        if self.kind == "lambda":
            # A release publishes a version and must move the alias onto it; the
            # standby region's copy of the function ships with it.
            return (
                self.function_logical_name,
                self.alias_logical_name,
                STANDBY_PREFIX + self.function_logical_name,
            )
        return (self.job_logical_name, self.script_logical_name, self.wheel_logical_name("*"))


#: The repository's one list of packages (see its header).
REPO_ROOT = Path(__file__).resolve().parents[4]
DEPLOYABLES_FILE = REPO_ROOT / "deployables.toml"
#: The table in a package's own ``pyproject.toml`` that says how the platform
#: deploys it (``resource-key``) and which AWS actions its code calls.
PLATFORM_TABLE = "todo-platform"


def _pyproject(package_path: str) -> Dict[str, Any]:
    return tomllib.loads((REPO_ROOT / package_path / "pyproject.toml").read_text("utf-8"))


def platform_table(package_path: str) -> Dict[str, Any]:
    """The package's ``[tool.todo-platform]`` table (empty when it has none)."""
    return dict(_pyproject(package_path).get("tool", {}).get(PLATFORM_TABLE, {}))


def package_dependencies(package: str, path: Path = DEPLOYABLES_FILE) -> List[str]:
    """The monorepo packages ``package`` requires (its pyproject's dependencies)."""
    listed = {e["name"]: e["path"] for e in tomllib.loads(path.read_text("utf-8"))["package"]}
    requirements = _pyproject(listed[package]).get("project", {}).get("dependencies", [])
    names = [re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0] for r in requirements]
    return [n for n in names if n in listed]


def package_holding(module: str, path: Path = DEPLOYABLES_FILE) -> Tuple[str, str]:
    """The listed package (name, folder) whose ``src/`` holds ``module``'s top-level package."""
    top = module.split(":")[0].split(".")[0]
    listed = tomllib.loads(path.read_text("utf-8"))["package"]
    found = [e for e in listed if (REPO_ROOT / e["path"] / "src" / top).is_dir()]
    if len(found) != 1:
        names = [e["name"] for e in found]
        raise ValueError(f"{top} must be in exactly one listed package's src/ (found {names})")
    return str(found[0]["name"]), str(found[0]["path"])


def load_deployables(path: Path = DEPLOYABLES_FILE) -> Tuple[Deployable, ...]:
    """Every package of ``deployables.toml`` that runs in AWS (a handler or a Glue module)."""
    found = []
    for entry in tomllib.loads(path.read_text("utf-8"))["package"]:
        handler, module = entry.get("lambda_handler"), entry.get("glue_module")
        if not (handler or module):
            continue
        key = platform_table(entry["path"]).get("resource-key")
        if not key:
            raise ValueError(
                f"{entry['path']}/pyproject.toml: [tool.{PLATFORM_TABLE}] needs a resource-key"
            )
        kind: Literal["lambda", "glue"] = "lambda" if handler else "glue"
        spark_entry = entry.get("glue_spark_module") if module else None
        bundle, bundle_path = package_holding(spark_entry, path) if spark_entry else (None, "")
        found.append(
            Deployable(
                entry["name"],
                kind,
                handler or module,
                key,
                entry["path"],
                spark_entry=spark_entry,
                spark_bundle=bundle,
                spark_bundle_path=bundle_path,
            )
        )
    return tuple(found)


DEPLOYABLES: Tuple[Deployable, ...] = load_deployables()
BY_PACKAGE: Dict[str, Deployable] = {d.package: d for d in DEPLOYABLES}
# The components name the deployables they run.
TODO_API = BY_PACKAGE["todo-api"]
CDC_PROCESSOR = BY_PACKAGE["todo-cdc-processor"]
METRICS_COLLECTOR = BY_PACKAGE["todo-metrics-collector"]
KPI_AGGREGATOR = BY_PACKAGE["todo-kpi-aggregator"]
ETL_SILVER = BY_PACKAGE["todo-etl-silver"]
ETL_GOLD = BY_PACKAGE["todo-etl-gold"]


class ArtifactMissing(FileNotFoundError):
    """A built artifact the program needs is not in the artifacts directory."""


@dataclass(frozen=True)
class GlueArtifact:
    #: The built directory; ``script`` and ``wheels`` are inside it.
    directory: Path
    script: Path
    wheels: Tuple[Path, ...]
    #: Third-party ``name==version`` pins Glue installs from PyPI.
    pins: Tuple[str, ...]

    def key(self, path: Path) -> str:
        """``path`` relative to the artifact directory (its S3 key suffix)."""
        return path.relative_to(self.directory).as_posix()


@dataclass(frozen=True)
class Artifacts:
    """The located artifacts of every deployable."""

    root: Path
    lambda_zips: Dict[str, Path]
    glue: Dict[str, GlueArtifact]
    #: The Glue Spark bundles, of the jobs that have a Spark entry point.
    glue_spark: Dict[str, GlueArtifact] = field(default_factory=dict)

    def lambda_zip(self, deployable: Deployable) -> Path:
        return self.lambda_zips[deployable.package]

    def glue_job(self, deployable: Deployable) -> GlueArtifact:
        return self.glue[deployable.package]

    def glue_spark_job(self, deployable: Deployable) -> GlueArtifact:
        return self.glue_spark[deployable.package]


def lambda_zip_path(root: Path, deployable: Deployable) -> Path:
    return root / "lambda" / f"{deployable.package}.zip"


def glue_dir(root: Path, deployable: Deployable) -> Path:
    return root / "glue" / deployable.package


def glue_spark_dir(root: Path, deployable: Deployable) -> Path:
    return root / "glue-spark" / deployable.package


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _built_file(directory: Path, entry: Dict[str, Any], problems: List[str]) -> Path:
    path = directory / str(entry["file"])
    if not path.is_file():
        problems.append(f"{path} (listed in {GLUE_MANIFEST})")
    elif _sha256(path) != entry["sha256"]:
        problems.append(f"{path} does not match its sha256 in {GLUE_MANIFEST} (stale build)")
    return path


@dataclass(frozen=True)
class _Expected:
    """What a Glue bundle's manifest must say."""

    what: str
    module: str
    python_version: str


def _glue_artifact(directory: Path, expected: _Expected, problems: List[str]) -> GlueArtifact:
    manifest_path = directory / GLUE_MANIFEST
    empty = GlueArtifact(directory, Path(), (), ())
    if not manifest_path.is_file():
        problems.append(f"{manifest_path} ({expected.what})")
        return empty
    manifest = json.loads(manifest_path.read_text())
    before = len(problems)
    if manifest.get("module") != expected.module:
        problems.append(
            f"{manifest_path}: module {manifest.get('module')!r}, expected {expected.module!r}"
        )
    if manifest.get("python_version") != expected.python_version:
        problems.append(f"{manifest_path}: built for Python {manifest.get('python_version')}")
    script = _built_file(directory, manifest["script"], problems)
    wheels = tuple(_built_file(directory, w, problems) for w in manifest.get("wheels", []))
    if not wheels:
        problems.append(f"{manifest_path}: lists no wheels")
    if len(problems) > before:
        return empty
    return GlueArtifact(directory, script, wheels, tuple(manifest.get("python_modules", [])))


def locate(root: Path) -> Artifacts:
    """Find every artifact under ``root``; :class:`ArtifactMissing` lists all that are not."""
    problems: List[str] = []
    zips: Dict[str, Path] = {}
    glue: Dict[str, GlueArtifact] = {}
    spark: Dict[str, GlueArtifact] = {}
    for deployable in DEPLOYABLES:
        if deployable.kind == "lambda":
            path = lambda_zip_path(root, deployable)
            if not path.is_file():
                problems.append(f"{path} (Lambda zip of {deployable.package})")
            zips[deployable.package] = path
            continue
        glue[deployable.package] = _glue_artifact(
            glue_dir(root, deployable),
            _Expected(
                f"Glue job artifact of {deployable.package}", deployable.entry, GLUE_PYTHON_VERSION
            ),
            problems,
        )
        if deployable.spark_entry:
            spark[deployable.package] = _glue_artifact(
                glue_spark_dir(root, deployable),
                _Expected(
                    f"Glue Spark bundle of {deployable.package}",
                    deployable.spark_entry,
                    GLUE_SPARK_PYTHON_VERSION,
                ),
                problems,
            )
    if problems:
        listing = "\n  - ".join(problems)
        raise ArtifactMissing(
            f"missing build artifacts in {root}:\n  - {listing}\n"
            f"Build them first with `{BUILD_COMMAND}` (from the repository root), "
            "or point TODO_ARTIFACTS_DIR / the artifactsDir setting at a directory holding them."
        )
    return Artifacts(root, zips, glue, spark)
