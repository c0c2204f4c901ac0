"""The CI workflow and the release configuration stay in step with
deployables.toml (the list noxfile.py reads) and the packages' dependencies:
every package has a job, on its Pythons, running its nox session, triggered by
changes to anything it depends on."""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path
from typing import Any, Dict, List, Set, Tuple

import pytest
import yaml

from todo_artifacts.deployables import load as load_deployables

ROOT = Path(__file__).resolve().parents[3]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
#: What every suite is tested with: the fixtures, the emulator they start, the
#: builder the fixtures re-export, the root lock and project, the noxfile and its list.
SHARED = [
    "shared/todo_core/**", "platform/local/**", "platform/emulator/**", "platform/artifacts/**",
    "uv.lock", "pyproject.toml", "noxfile.py", "deployables.toml",
]

pytestmark = pytest.mark.skipif(sys.version_info < (3, 11), reason="reads pyproject with tomllib")


def deployables() -> List[Dict[str, Any]]:
    """Every package as ``deployables.toml`` (the one list) names it."""
    return load_deployables(ROOT)


def packages() -> Dict[str, Tuple[str, Tuple[str, ...], str]]:
    """name -> (path, pythons, workspace)."""
    return {p["name"]: (p["path"], tuple(p["pythons"]), p["workspace"]) for p in deployables()}


def test_the_release_configuration_releases_exactly_the_released_packages() -> None:
    import json

    config = json.loads((ROOT / "release-please-config.json").read_text(encoding="utf-8"))
    manifest = json.loads((ROOT / ".release-please-manifest.json").read_text(encoding="utf-8"))
    released = {p["path"]: p["name"] for p in deployables() if p.get("released", True)}
    assert {path: c["package-name"] for path, c in config["packages"].items()} == released
    assert {path: c["component"] for path, c in config["packages"].items()} == released
    assert set(manifest) == set(released)


def test_every_listed_package_is_a_member_of_its_workspace() -> None:
    import tomllib

    for package in deployables():
        project = ROOT if package["workspace"] == "root" else ROOT / "etl"
        data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
        members = data["tool"]["uv"]["workspace"]["members"]
        relative = package["path"] if package["workspace"] == "root" else package["path"][4:]
        assert relative in members, package["name"]
        own = tomllib.loads((ROOT / package["path"] / "pyproject.toml").read_text("utf-8"))
        assert own["project"]["name"] == package["name"]


def dependencies(path: str, with_groups: bool) -> Set[str]:
    """Requirement names of a package; dependency groups only for the package
    under test itself (uv installs groups of the target package, not of its
    dependencies)."""
    import tomllib

    data = tomllib.loads((ROOT / path / "pyproject.toml").read_text(encoding="utf-8"))
    names = list(data["project"].get("dependencies", []))
    if with_groups:
        for group in data.get("dependency-groups", {}).values():
            names += [n for n in group if isinstance(n, str)]
    return {n.split("[")[0].split(">")[0].split("=")[0].strip() for n in names}


@pytest.fixture(scope="module")
def workflow() -> Dict[str, Any]:
    data: Dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return data


def filters(workflow: Dict[str, Any]) -> Dict[str, List[str]]:
    (step,) = [s for s in workflow["jobs"]["changes"]["steps"] if s.get("id") == "filter"]
    raw = yaml.safe_load(step["with"]["filters"])

    def flat(items: Any) -> List[str]:
        out: List[str] = []
        for item in items:
            out += flat(item) if isinstance(item, list) else [item]
        return out

    return {name: flat(globs) for name, globs in raw.items()}


def triggered(globs: List[str], path: str) -> bool:
    return any(fnmatch.fnmatch(path, g) for g in globs)


def test_every_package_has_a_job_running_its_nox_sessions(workflow: Dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    for name, (_, pythons, _) in packages().items():
        assert name in jobs, f"no CI job for {name}"
        job = jobs[name]
        assert job["needs"] == "changes"
        assert f"needs.changes.outputs.{name} == 'true'" in job["if"]
        assert [str(p) for p in job["strategy"]["matrix"]["python"]] == list(pythons)
        runs = [s["run"] for s in job["steps"] if "run" in s]
        assert f"python3 noxfile.py -s tests-{name}-${{{{ matrix.python }}}}" in runs
        assert workflow["jobs"]["changes"]["outputs"][name] == (
            f"${{{{ steps.filter.outputs.{name} }}}}"
        )
    # The single required check waits for every other job.
    assert set(jobs["ci-ok"]["needs"]) == set(jobs) - {"changes", "ci-ok"}
    assert set(packages()) | {"lint", "typecheck", "demo"} <= set(jobs)
    demo_runs = [s["run"] for s in jobs["demo"]["steps"] if "noxfile.py" in s.get("run", "")]
    assert demo_runs == ["python3 noxfile.py -s demo-small"]
    for gate in ("lint", "typecheck"):
        assert jobs[gate]["steps"][-1]["run"] == f"python3 noxfile.py -s {gate}"


def test_a_change_to_anything_a_package_depends_on_triggers_it(
    workflow: Dict[str, Any],
) -> None:
    all_packages = packages()
    by_filter = filters(workflow)
    paths = {name: path for name, (path, _, _) in all_packages.items()}
    for name, (path, _, workspace) in all_packages.items():
        globs = by_filter[name]
        for shared in SHARED:
            assert shared in globs, (name, shared)
        assert triggered(globs, f"{path}/src/x.py"), name
        if workspace == "etl" or name == "todo-core":  # tested against etl/uv.lock
            assert "etl/uv.lock" in globs, name
        # Transitively, every workspace package its test environment installs.
        seen: Set[str] = set()
        todo = [name]
        while todo:
            current = todo.pop()
            for dep in dependencies(paths[current], current == name) & set(paths):
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        for dep in seen:
            assert triggered(globs, f"{paths[dep]}/pyproject.toml"), (name, dep)


def test_a_lone_docs_change_elsewhere_does_not_trigger_unrelated_packages(
    workflow: Dict[str, Any],
) -> None:
    by_filter = filters(workflow)
    assert not triggered(by_filter["todo-api"], "etl/gold/README.md")
    assert not triggered(by_filter["todo-etl-gold"], "services/todo-api/README.md")


def test_every_job_runs_the_noxfile_with_no_preinstalled_uv_or_nox(
    workflow: Dict[str, Any],
) -> None:
    """As on a fresh machine (`.ci/run`): nothing installs uv or nox but the
    noxfile, and the stand-ins that fail any bypass go on PATH first."""
    for name, job in workflow["jobs"].items():
        steps = job.get("steps", [])
        runs = [i for i, s in enumerate(steps) if "noxfile.py" in s.get("run", "")]
        if not runs:
            continue
        assert not any("setup-uv" in s.get("uses", "") for s in steps), name
        assert not any("pip install" in s.get("run", "") for s in steps), name
        shadow = [i for i, s in enumerate(steps) if ".ci/shadow-tools" in s.get("run", "")]
        assert shadow, f"{name} has no guard"
        assert shadow[0] < runs[0], f"{name} runs the noxfile before the guard"
        assert "$GITHUB_PATH" in steps[shadow[0]]["run"], name
    ci_run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci_run.index(".ci/shadow-tools") < ci_run.index("python3 noxfile.py")


def test_the_shadow_tools_fail_loudly(tmp_path: Path) -> None:
    import os
    import subprocess

    folder = subprocess.run(
        [str(ROOT / ".ci" / "shadow-tools")], capture_output=True, text=True, check=True
    ).stdout.strip()
    for tool in ("uv", "nox"):
        result = subprocess.run(
            [os.path.join(folder, tool), "--version"], capture_output=True, text=True
        )
        assert result.returncode == 127
        assert "fresh machine" in result.stderr


def test_sessions_get_the_noxfiles_uv_first_on_path() -> None:
    """Inside a nox session (where this suite runs), `uv` on PATH is the one nox
    uses, not a machine-wide one (and under `.ci/run`, not the failing stub)."""
    import os
    import shutil
    import subprocess

    if "UV" not in os.environ:
        pytest.skip("not run through the noxfile")
    found = shutil.which("uv")
    assert found
    assert os.path.samefile(found, os.environ["UV"])
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("uv ")
