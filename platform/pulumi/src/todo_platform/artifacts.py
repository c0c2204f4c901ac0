"""The deployable packages and the built artifacts the program ships.

``python3 noxfile.py -s build`` writes every artifact under ``dist/``:

* a Lambda zip per function: ``dist/lambda/<package>.zip``;
* a directory per Glue job: ``dist/glue/<package>/`` holding the job script
  (the only ``*.py`` file at its top level) and the wheels it installs
  (``*.whl``, at any depth).

The program never builds anything: it checks that every artifact is there
before it declares a single resource, and fails with one message naming every
missing file and the command that builds it.

Each deployable also names the Pulumi resources that carry its code (the
"release unit"); ``todo_platform.release`` turns them into ``--target`` and
``--exclude`` patterns, so a service release deploys exactly its own code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Literal, Tuple

BUILD_COMMAND = "python3 noxfile.py -s build"


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
    script: Path
    wheels: Tuple[Path, ...]


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


def _glue_artifact(root: Path, deployable: Deployable, problems: List[str]) -> GlueArtifact:
    directory = glue_dir(root, deployable)
    if not directory.is_dir():
        problems.append(f"{directory}/ (Glue job script and wheels of {deployable.package})")
        return GlueArtifact(Path(), ())
    scripts = sorted(p for p in directory.glob("*.py") if p.is_file())
    wheels = tuple(sorted(p for p in directory.rglob("*.whl") if p.is_file()))
    if len(scripts) != 1:
        found = ", ".join(p.name for p in scripts) or "none"
        problems.append(f"{directory}/*.py: exactly one Glue job script expected, found {found}")
    if not wheels:
        problems.append(f"{directory}/**/*.whl: the wheels of {deployable.package}")
    return GlueArtifact(scripts[0] if scripts else Path(), wheels)


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
