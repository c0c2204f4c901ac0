"""Every developer and CI task of the monorepo.

Run it with ``python3 noxfile.py <args>`` (it installs nox and uv for itself
on first use) or with an installed ``nox``:

    python3 noxfile.py -s demo      # the whole system, locally, verified (ENGINE=spark: on Spark)
    python3 noxfile.py -t tests     # every check and test
    python3 noxfile.py -s dev       # the local stack until Ctrl-C
    python3 noxfile.py -s build     # Lambda zips and Glue artifacts into dist/
    python3 noxfile.py -s bench     # benchmarks -> BENCHMARKS.md
    python3 noxfile.py -s mutation  # mutation testing of the guard modules -> MUTATION.md

Each package is tested in its own virtualenv, on each Python it must support,
installed from the lock file of its workspace (root: Python 3.12; etl/: the
Glue jobs, Python 3.9 and 3.12).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent
TOOLS_VENV = ROOT / ".nox" / "_tools"


def _bootstrap() -> None:
    """Give a fresh machine nox and uv in a private venv, then re-run there."""
    python = TOOLS_VENV / "bin" / "python"
    if not python.exists():
        print("noxfile: installing nox and uv into .nox/_tools (first run only)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "nox[uv]>=2024.10.9"], check=True
        )
    os.execv(str(python), [str(python), __file__, *sys.argv[1:]])  # noqa: S606 - no shell


try:
    import nox
except ImportError:  # pragma: no cover - exercised on fresh machines
    if __name__ == "__main__":
        _bootstrap()
    raise


def _expose_pyenv_interpreters() -> None:
    """Make python3.9 ... python3.13 resolvable when they come from pyenv.

    pyenv's shims answer only for versions named in PYENV_VERSION; the Glue
    runtime (3.9) and the Lambda runtime (3.12) must both be found.
    """
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    versions = sorted(
        (os.path.basename(p) for p in glob.glob(os.path.join(root, "versions", "3.*"))),
        key=lambda v: tuple(int(x) for x in v.split(".") if x.isdigit()),
        reverse=True,
    )
    if versions and "PYENV_VERSION" not in os.environ:
        os.environ["PYENV_VERSION"] = ":".join(versions)
    for version in versions:
        bin_dir = os.path.join(root, "versions", version, "bin")
        if bin_dir not in os.environ.get("PATH", ""):
            os.environ["PATH"] += os.pathsep + bin_dir
    # uv must never try to download an interpreter (it cannot, here).
    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")


_expose_pyenv_interpreters()


def _expose_uv() -> None:
    """Make the uv that nox itself uses the ``uv`` of every session and subprocess.

    On a fresh machine the only uv is the one the bootstrap installed into
    ``.nox/_tools`` (the ``uv`` Python package that ``nox[uv]`` brings); it is
    not on ``PATH``. Sessions call ``uv`` and so do the tools they run (the
    artifact builders), so its folder goes first on ``PATH`` and its path into
    ``UV`` (the variable nox and the builders honour). This is the one place
    that decides which uv runs; ``.ci/run`` puts failing ``uv``/``nox`` stubs on
    ``PATH`` so that any bypass of it fails CI.
    """
    uv_bin: Optional[str] = None
    try:
        from uv import find_uv_bin

        uv_bin = find_uv_bin()
    except (ImportError, FileNotFoundError):
        uv_bin = os.environ.get("UV") or shutil.which("uv")
    if not uv_bin:
        raise SystemExit(
            "noxfile: uv not found; run `python3 noxfile.py ...` (it installs nox[uv] for "
            "itself) or install nox with its uv extra"
        )
    uv_bin = os.path.abspath(uv_bin)
    os.environ["UV"] = uv_bin
    os.environ["PATH"] = os.path.dirname(uv_bin) + os.pathsep + os.environ.get("PATH", "")


_expose_uv()

nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = True
# A missing 3.9 or 3.12 must fail the run, not silently skip those tests.
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["lint", "typecheck"]
nox.needs_version = ">=2024.10.9"

LAMBDA_PYTHON = "3.12"
GLUE_PYTHON = "3.9"


@dataclass(frozen=True)
class Package:
    """A package of the monorepo, as ``deployables.toml`` lists it."""

    name: str
    path: str
    pythons: tuple[str, ...]
    #: "root" (Python 3.12 workspace) or "etl" (the Glue workspace in etl/).
    workspace: str
    #: For Lambdas: the handler, as Lambda's "module.function" setting names it.
    lambda_handler: Optional[str] = None
    #: For Glue jobs: the job's entry-point module (run as ``python -m``).
    glue_module: Optional[str] = None
    #: For Glue jobs that also run on Glue Spark: the Spark entry point (``module:function``).
    glue_spark_module: Optional[str] = None
    #: Released on its own (a release-please component).
    released: bool = True


def _load_packages() -> tuple[Package, ...]:
    """Every package, from ``deployables.toml`` (the one list; see its header)."""
    import tomllib

    data = tomllib.loads((ROOT / "deployables.toml").read_text(encoding="utf-8"))
    return tuple(
        Package(**{**entry, "pythons": tuple(entry["pythons"])}) for entry in data["package"]
    )


PACKAGES: tuple[Package, ...] = _load_packages()
BY_NAME = {p.name: p for p in PACKAGES}


def sync(
    session: nox.Session, package: Package, *groups: str, workspace: Optional[str] = None
) -> None:
    """Install ``package`` (and its dependency groups) from its workspace's lock file."""
    workspace = workspace or package.workspace
    project = ROOT if workspace == "root" else ROOT / "etl"
    args = ["uv", "sync", "--frozen", "--project", str(project), "--package", package.name]
    for group in groups:
        args += ["--group", group]
    session.run_install(
        *args,
        "--python", session.virtualenv.location,
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
        silent=True,
    )


#: The one environment the emulator (moto) runs from, for every suite.
EMULATOR_VENV = ROOT / ".nox" / "_emulator"
#: How the test fixtures (todo_local.emulator) learn which Python runs the emulator.
EMULATOR_PYTHON_ENV = "TODO_EMULATOR_PYTHON"


def use_emulator(session: nox.Session) -> None:
    """Sync the emulator's environment (``todo-emulator`` from the root lock) and
    point the session's tests at its Python.

    Every suite, the Glue jobs' Python 3.9 ones included, starts the emulator
    as a subprocess of this one Python 3.12 environment, so there is one moto,
    at the version the root lock pins, and no suite carries moto itself.
    """
    session.run_install(
        "uv", "sync", "--frozen", "--project", str(ROOT), "--package", "todo-emulator",
        "--python", LAMBDA_PYTHON,
        env={"UV_PROJECT_ENVIRONMENT": str(EMULATOR_VENV)},
        silent=True,
    )
    session.env[EMULATOR_PYTHON_ENV] = str(EMULATOR_VENV / "bin" / "python")


def _junit_path(session: nox.Session, package: Package) -> str:
    out = ROOT / ".nox" / "_junit"
    out.mkdir(parents=True, exist_ok=True)
    return str(out / f"{package.name}-py{session.python}.xml")


def _register_test_session(package: Package) -> None:
    def tests(session: nox.Session) -> None:
        if package.name == "todo-core" and session.python == GLUE_PYTHON:
            # todo_core is not a member of the Glue workspace but a path
            # dependency of it: test it with exactly the versions Glue gets.
            sync(session, BY_NAME["todo-etl-silver"], "test")
        else:
            sync(session, package, "test")
        if package.name != "todo-emulator":  # its own tests run it from their own Python
            use_emulator(session)
        if package.name == "todo-demo":  # the restore drill's test runs the Glue jobs
            session.env["TODO_ETL_PYTHON"] = _sync_etl(session)
        session.chdir(ROOT / package.path)
        session.run(
            "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
            f"--junitxml={_junit_path(session, package)}", *session.posargs,
        )

    tests.__doc__ = (
        f"Run {package.name}'s tests ({package.path}) on Python {', '.join(package.pythons)}."
    )
    nox.session(
        name=f"tests-{package.name}",
        python=list(package.pythons),
        tags=["tests"],
    )(tests)


for _package in PACKAGES:
    _register_test_session(_package)


@nox.session(python=LAMBDA_PYTHON, tags=["tests"])
def lint(session: nox.Session) -> None:
    """Ruff over the whole tree, and the GitHub workflows against their schema."""
    session.install("ruff>=0.8", "check-jsonschema>=0.29")
    session.run("ruff", "check", ".")
    workflows = sorted(glob.glob(str(ROOT / ".github" / "workflows" / "*.yml")))
    if workflows:
        session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)


@nox.session(python=LAMBDA_PYTHON, tags=["tests"])
def typecheck(session: nox.Session) -> None:
    """mypy: strict for todo_core (the contract every package relies on)."""
    sync(session, BY_NAME["todo-core"], "test")
    session.install("mypy>=1.13")
    session.run("mypy", "--strict", "shared/todo_core/src/todo_core")


@nox.session(python=LAMBDA_PYTHON)
def dev(session: nox.Session) -> None:
    """The local stack until Ctrl-C: emulator, API, stream runner; writes .local/outputs.json."""
    _sync_demo(session)
    session.run("todo-local", "up", *session.posargs)


@nox.session(python=LAMBDA_PYTHON)
def build(session: nox.Session) -> None:
    """Deployable artifacts into dist/: a Lambda zip per handler, Glue job bundles.

    Lambda zips (``dist/lambda/<package>.zip``) come from
    ``todo_artifacts.lambda_artifact``; Glue Python-shell bundles
    (``dist/glue/<package>/``) from ``todo_artifacts.glue_artifact``, and Glue
    Spark bundles (``dist/glue-spark/<package>/``) from
    ``todo_artifacts.glue_spark_artifact``. Posargs select packages by name.
    """
    session.run_install(
        "uv", "sync", "--frozen", "--package", "todo-artifacts", "--project", str(ROOT),
        "--python", session.virtualenv.location,
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
        silent=True,
    )
    selected = [p for p in PACKAGES if not session.posargs or p.name in session.posargs]
    for package in selected:
        if package.lambda_handler:
            session.run(
                "python", "-m", "todo_artifacts.lambda_artifact", "--package", package.name,
                "--path", str(ROOT / package.path), "--out-dir", str(ROOT / "dist" / "lambda"),
                "--root", str(ROOT),
            )
        if package.glue_module:
            session.run(
                "python", "-m", "todo_artifacts.glue_artifact", "--package", package.name,
                "--out-dir", str(ROOT / "dist" / "glue"),
            )
        if package.glue_spark_module:
            session.run(
                "python", "-m", "todo_artifacts.glue_spark_artifact", "--package", package.name,
                "--out-dir", str(ROOT / "dist" / "glue-spark"),
            )


def _sync_demo(session: nox.Session) -> None:
    """The demo and everything it runs (todo-demo's dependencies), from the root lock."""
    session.run_install(
        "uv", "sync", "--frozen", "--package", "todo-demo", "--project", str(ROOT),
        "--python", session.virtualenv.location,
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
        silent=True,
    )


def _sync_etl(session: nox.Session) -> str:
    """The Glue jobs' workspace (etl/) in its own venv next to the session's; its python."""
    location = ROOT / ".nox" / f"{session.name}-etl"
    session.run_install(
        "uv", "sync", "--frozen", "--all-packages", "--all-extras", "--project", str(ROOT / "etl"),
        "--python", LAMBDA_PYTHON,
        env={"UV_PROJECT_ENVIRONMENT": str(location)},
        silent=True,
    )
    return str(location / "bin" / "python")


def _sync_spark(session: nox.Session) -> str:
    """The Spark jobs' environment next to the session's; its python.

    Glue Spark's runtime is Python 3.11 (the Glue jobs' 3.12 environment
    cannot hold it), and pyspark is a test dependency of todo-lake-spark (Glue
    provides it): its ``test`` group brings it. Spark needs Java 17, which
    ``todo_lake_spark.java`` finds (``.ci/run`` installs it when missing).
    """
    package = BY_NAME["todo-lake-spark"]
    location = ROOT / ".nox" / f"{session.name}-spark"
    session.run_install(
        "uv", "sync", "--frozen", "--package", package.name, "--group", "test",
        "--project", str(ROOT / "etl"), "--python", package.pythons[0],
        env={"UV_PROJECT_ENVIRONMENT": str(location)},
        silent=True,
    )
    return str(location / "bin" / "python")


def _run_demo(session: nox.Session, sizes: dict, engine: str) -> None:
    """The demo with the Glue jobs on ``engine``: the Python-shell jobs
    (``duckdb``) or the Spark jobs (``spark``, in their own 3.11 environment)."""
    _sync_demo(session)
    args = ["--etl-python", _sync_etl(session), "--engine", engine]
    if engine == "spark":
        args += ["--spark-python", _sync_spark(session)]
    session.run("python", "-m", "todo_demo", *args, *session.posargs, env=sizes)


DEMO_ENGINES = ("duckdb", "spark")
#: The size CI runs the demo at.
SMALL_DEMO = {"NUM_USERS": "2", "TASKS_PER_USER": "3", "UPDATES_PER_TASK": "2"}


@nox.session(python=LAMBDA_PYTHON)
def demo(session: nox.Session) -> None:
    """The whole system end to end, verified: users, API traffic, CDC, silver, gold, insights.

    Sizes: NUM_USERS (3), TASKS_PER_USER (5), UPDATES_PER_TASK (3); report in .local/report.html.
    ENGINE=spark runs silver and gold as the Glue Spark jobs (default duckdb: the Python-shell
    jobs).
    """
    engine = os.environ.get("ENGINE", "duckdb").lower() or "duckdb"
    if engine not in DEMO_ENGINES:
        session.error(f"ENGINE must be one of {', '.join(DEMO_ENGINES)}, not {engine!r}")
    defaults = (("NUM_USERS", "3"), ("TASKS_PER_USER", "5"), ("UPDATES_PER_TASK", "3"))
    _run_demo(session, {name: os.environ.get(name, default) for name, default in defaults}, engine)


@nox.session(name="demo-small", python=LAMBDA_PYTHON, tags=["tests"])
def demo_small(session: nox.Session) -> None:
    """The demo at CI size (2 users x 3 tasks x 2 updates); fails unless gold matches the API."""
    _run_demo(session, SMALL_DEMO, "duckdb")


@nox.session(name="demo-small-spark", python=LAMBDA_PYTHON, tags=["tests"])
def demo_small_spark(session: nox.Session) -> None:
    """demo-small with silver and gold on the Glue Spark jobs (local Spark, Java 17)."""
    _run_demo(session, SMALL_DEMO, "spark")


@nox.session(name="restore-drill", python=LAMBDA_PYTHON)
def restore_drill(session: nox.Session) -> None:
    """The table's recovery procedure on the local stack, verified; prints the recovery time."""
    _sync_demo(session)
    session.run("python", "-m", "todo_demo.restore_drill", "--etl-python", _sync_etl(session))


BENCHMARKS_HEADER = """\
# Benchmarks

Assembled by `python3 noxfile.py -s bench` from each package's
`benchmarks/RESULTS.md`, which that package's `benchmarks/run.py` writes when
run in the package's own test environment. `python3 noxfile.py -s bench --
todo-core` re-runs one package (the other sections keep their last figures);
`python3 noxfile.py -s bench -- --assemble-only` only re-assembles this file.

How to read the figures:

- Every timing is a **median** over many runs, with its **spread** (the
  interquartile range, or min-max where stated) next to it: a median without
  its spread hides how noisy the measurement was.
- Every figure that has a goal is a **ratio against a baseline measured in the
  same run**, usually interleaved with it (A, B, B, A ...), e.g. a repository
  call against the raw boto3 call it makes. Both sides see the same machine at
  the same moment, so the ratio survives a busy neighbour.
- **Absolute times on a shared machine are noise.** They depend on the CPU,
  its load and the local AWS emulator (moto over HTTP on 127.0.0.1, not AWS);
  compare ratios, not milliseconds, across runs and machines. Each section
  names the machine it ran on.
- Tests never assert timings; benchmarks are the only place performance is
  measured.
"""


def _has_benchmark(package: Package) -> bool:
    return (ROOT / package.path / "benchmarks" / "run.py").is_file()


def assemble_benchmarks() -> str:
    """BENCHMARKS.md: the header, then every package's fragment in PACKAGES order."""
    parts = [BENCHMARKS_HEADER]
    for package in PACKAGES:
        fragment = ROOT / package.path / "benchmarks" / "RESULTS.md"
        if fragment.is_file():
            parts.append(fragment.read_text(encoding="utf-8").strip() + "\n")
    return "\n".join(parts)


@nox.session(python=LAMBDA_PYTHON)
def bench(session: nox.Session) -> None:
    """Run every package's benchmarks/run.py (or those named in posargs); write BENCHMARKS.md.

    Each benchmark runs from its package folder in that package's test
    environment (synced from its workspace's lock), as
    ``python benchmarks/run.py --out benchmarks/RESULTS.md``.
    ``-- --assemble-only`` rewrites BENCHMARKS.md from the fragments as they are.
    """
    from nox.command import CommandFailed

    names = [a for a in session.posargs if a != "--assemble-only"]
    if "--assemble-only" in session.posargs:
        (ROOT / "BENCHMARKS.md").write_text(assemble_benchmarks(), encoding="utf-8")
        session.log("BENCHMARKS.md assembled from the existing fragments")
        return
    unknown = sorted(set(names) - set(BY_NAME))
    if unknown:
        session.error(f"unknown packages {unknown}; choose from {sorted(BY_NAME)}")
    selected = [
        p for p in PACKAGES
        if _has_benchmark(p) and (not names or p.name in names)
    ]
    if not selected:
        session.skip("no selected package has benchmarks/run.py")
    failed = []
    use_emulator(session)
    for package in selected:
        sync(session, package, "test")
        session.chdir(ROOT / package.path)
        try:
            session.run("python", "benchmarks/run.py", "--out", "benchmarks/RESULTS.md")
        except CommandFailed:
            failed.append(package.name)
        finally:
            session.chdir(ROOT)
    (ROOT / "BENCHMARKS.md").write_text(assemble_benchmarks(), encoding="utf-8")
    session.log(f"BENCHMARKS.md assembled ({', '.join(p.name for p in selected)} re-run)")
    if failed:
        session.error(f"benchmarks failed: {', '.join(failed)}")



def _package_environment(session: nox.Session, package: Package, location: Path) -> str:
    """``package`` with its test group in a venv of its own (Python 3.12); its python."""
    project = ROOT if package.workspace == "root" else ROOT / "etl"
    session.run_install(
        "uv", "sync", "--frozen", "--project", str(project), "--package", package.name,
        "--group", "test", "--python", LAMBDA_PYTHON,
        env={"UV_PROJECT_ENVIRONMENT": str(location)},
        silent=True,
    )
    return str(location / "bin" / "python")


@nox.session(python=LAMBDA_PYTHON)
def mutation(session: nox.Session) -> None:
    """Mutation testing of the guard modules (mutation.toml) -> MUTATION.md. Slow: not in -t tests.

    Posargs name targets (default: all of them). Each target's tests run in its
    own package's test environment; per-target results stay in
    ``mutation-results/`` so a partial run keeps the others' figures. The
    session fails when a module is below the goal (90 %).
    """
    import tomllib

    sync(session, BY_NAME["todo-mutation"], "test")
    use_emulator(session)
    targets = tomllib.loads((ROOT / "mutation.toml").read_text(encoding="utf-8"))["target"]
    known = [t["name"] for t in targets]
    unknown = sorted(set(session.posargs) - set(known))
    if unknown:
        session.error(f"unknown targets {unknown}; choose from {known}")
    for target in targets:
        if session.posargs and target["name"] not in session.posargs:
            continue
        package = BY_NAME[target["package"]]
        python = _package_environment(
            session, package, ROOT / ".nox" / f"mutation-{package.name}"
        )
        session.run(
            "todo-mutation", "--config", str(ROOT / "mutation.toml"),
            "--results", str(ROOT / "mutation-results"), "run", target["name"],
            "--root", str(ROOT), "--package-path", package.path, "--test-python", python,
        )
    session.run(
        "todo-mutation", "--config", str(ROOT / "mutation.toml"),
        "--results", str(ROOT / "mutation-results"), "report", "--out",
        str(ROOT / "MUTATION.md"), "--check",
    )

if __name__ == "__main__":
    nox.main()
