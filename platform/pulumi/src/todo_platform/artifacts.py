"""The deployable packages and the built artifacts the program ships.

``python3 noxfile.py -s build`` writes every artifact under ``dist/``:

* a Lambda zip per function: ``dist/lambda/<package>.zip``;
* a directory per Glue job: ``dist/glue/<package>/`` holding the job script,
  the wheels of the job and its local libraries, and ``glue-job.json``, the
  builder's manifest (script and wheel files with their sha256, the entry
  module, the exact third-party pins for ``--additional-python-modules``).

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Literal, Tuple

BUILD_COMMAND = "python3 noxfile.py -s build"
#: The Glue builder's manifest (``todo_local.glue_artifact``).
GLUE_MANIFEST = "glue-job.json"
GLUE_PYTHON_VERSION = "3.9"


@dataclass(frozen=True)
class Deployable:
    """A package of the monorepo that runs in AWS."""

    package: str
    kind: Literal["lambda", "glue"]
    #: Lambda: the handler setting; Glue: the entry module the job script runs.
    entry: str
    #: Short key used in the logical names of the package's resources.
    key: str

    # Logical names of the resources that carry the package's code.
    @property
    def function_logical_name(self) -> str:
        return f"{self.key}-function"

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
            return (self.function_logical_name,)
        return (self.job_logical_name, self.script_logical_name, self.wheel_logical_name("*"))


# The handlers and entry modules are those of noxfile.py's PACKAGES registry
# (tests/test_artifacts.py keeps the two in step).
TODO_API = Deployable("todo-api", "lambda", "todo_api.handler.lambda_handler", "api")
CDC_PROCESSOR = Deployable(
    "todo-cdc-processor", "lambda", "cdc_processor.handler.lambda_handler", "cdc"
)
METRICS_COLLECTOR = Deployable(
    "todo-metrics-collector", "lambda", "metrics_collector.handler.lambda_handler", "metrics"
)
ETL_SILVER = Deployable("todo-etl-silver", "glue", "todo_silver.job", "silver")
ETL_GOLD = Deployable("todo-etl-gold", "glue", "todo_gold.job", "gold")

DEPLOYABLES: Tuple[Deployable, ...] = (
    TODO_API,
    CDC_PROCESSOR,
    METRICS_COLLECTOR,
    ETL_SILVER,
    ETL_GOLD,
)
BY_PACKAGE: Dict[str, Deployable] = {d.package: d for d in DEPLOYABLES}


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

    def lambda_zip(self, deployable: Deployable) -> Path:
        return self.lambda_zips[deployable.package]

    def glue_job(self, deployable: Deployable) -> GlueArtifact:
        return self.glue[deployable.package]


def lambda_zip_path(root: Path, deployable: Deployable) -> Path:
    return root / "lambda" / f"{deployable.package}.zip"


def glue_dir(root: Path, deployable: Deployable) -> Path:
    return root / "glue" / deployable.package


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _built_file(directory: Path, entry: Dict[str, Any], problems: List[str]) -> Path:
    path = directory / str(entry["file"])
    if not path.is_file():
        problems.append(f"{path} (listed in {GLUE_MANIFEST})")
    elif _sha256(path) != entry["sha256"]:
        problems.append(f"{path} does not match its sha256 in {GLUE_MANIFEST} (stale build)")
    return path


def _glue_artifact(root: Path, deployable: Deployable, problems: List[str]) -> GlueArtifact:
    directory = glue_dir(root, deployable)
    manifest_path = directory / GLUE_MANIFEST
    empty = GlueArtifact(directory, Path(), (), ())
    if not manifest_path.is_file():
        problems.append(f"{manifest_path} (Glue job artifact of {deployable.package})")
        return empty
    manifest = json.loads(manifest_path.read_text())
    before = len(problems)
    if manifest.get("module") != deployable.entry:
        problems.append(
            f"{manifest_path}: module {manifest.get('module')!r}, expected {deployable.entry!r}"
        )
    if manifest.get("python_version") != GLUE_PYTHON_VERSION:
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
    for deployable in DEPLOYABLES:
        if deployable.kind == "lambda":
            path = lambda_zip_path(root, deployable)
            if not path.is_file():
                problems.append(f"{path} (Lambda zip of {deployable.package})")
            zips[deployable.package] = path
        else:
            glue[deployable.package] = _glue_artifact(root, deployable, problems)
    if problems:
        listing = "\n  - ".join(problems)
        raise ArtifactMissing(
            f"missing build artifacts in {root}:\n  - {listing}\n"
            f"Build them first with `{BUILD_COMMAND}` (from the repository root), "
            "or point TODO_ARTIFACTS_DIR / the artifactsDir setting at a directory holding them."
        )
    return Artifacts(root, zips, glue)
