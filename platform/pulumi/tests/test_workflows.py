"""Delivery: the workflows validate and wire OIDC, environments and releases together."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
from harness import REPO_ROOT
from ruamel.yaml import YAML

WORKFLOWS = REPO_ROOT / ".github" / "workflows"


def load(name: str) -> Dict[str, Any]:
    return YAML(typ="safe", pure=True).load((WORKFLOWS / name).read_text())


def listed_packages() -> Dict[str, str]:
    """name -> path of every released package in deployables.toml (the one list)."""
    import tomllib

    listed = tomllib.loads((REPO_ROOT / "deployables.toml").read_text())["package"]
    return {p["name"]: p["path"] for p in listed if p.get("released", True)}


def test_every_workflow_validates_against_the_github_schema() -> None:
    files = sorted(str(p) for p in WORKFLOWS.glob("*.y*ml"))
    assert {"deploy.yml", "release.yml", "pulumi-stage.yml"} <= {Path(f).name for f in files}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            *files,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(broken),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0


def steps(workflow: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [s for job in workflow["jobs"].values() for s in job.get("steps", [])]


def test_stage_operations_use_oidc_and_no_stored_keys() -> None:
    stage = load("pulumi-stage.yml")
    assert stage["permissions"]["id-token"] == "write"
    job = stage["jobs"]["pulumi"]
    assert "inputs.stage" in job["environment"]
    assert "preview" in job["environment"]
    aws = next(
        s
        for s in steps(stage)
        if s.get("uses", "").startswith("aws-actions/configure-aws-credentials")
    )
    assert aws["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    text = "\n".join(p.read_text() for p in WORKFLOWS.glob("*.yml"))
    for forbidden in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "aws-access-key-id",
        "PULUMI_ACCESS_TOKEN",
    ):
        assert forbidden not in text
    runs = "\n".join(s.get("run", "") for s in steps(stage))
    assert "python3 noxfile.py -s build" in runs
    assert "todo_platform.release excludes" in runs
    assert "todo_platform.release targets" in runs
    assert any(s.get("uses", "").startswith("pulumi/actions@") for s in steps(stage))


def test_deploy_previews_pull_requests_and_promotes_main_through_environments() -> None:
    deploy = load("deploy.yml")
    assert set(deploy["on"]) >= {"pull_request", "push"}
    assert deploy["on"]["push"]["branches"] == ["main"]
    jobs = deploy["jobs"]
    assert jobs["preview-dev"]["with"]["command"] == "preview"
    assert jobs["preview-dev"]["with"]["stage"] == "dev"
    assert jobs["preview-dev"]["if"] == "github.event_name == 'pull_request'"
    chain = [
        (name, jobs[name]["with"]["stage"], jobs[name]["with"]["command"], jobs[name].get("needs"))
        for name in ("dev", "staging", "prod")
    ]
    assert chain == [
        ("dev", "dev", "up", None),
        ("staging", "staging", "up", "dev"),
        ("prod", "prod", "up", "staging"),
    ]
    assert jobs["dev"]["with"]["scope"] == "all"
    assert "platform" in jobs["prod"]["with"]["scope"]
    for job in jobs.values():
        assert job["uses"] == "./.github/workflows/pulumi-stage.yml"
        assert job["permissions"]["id-token"] == "write"


def test_release_deploys_only_the_released_package_from_its_tag() -> None:
    rel = load("release.yml")
    jobs = rel["jobs"]
    please = next(
        s for s in jobs["release-please"]["steps"] if "release-please-action" in s.get("uses", "")
    )
    assert please["with"] == {
        "config-file": "release-please-config.json",
        "manifest-file": ".release-please-manifest.json",
    }
    for stage, needs in (("staging", "release-please"), ("prod", ["release-please", "staging"])):
        job = jobs[stage]
        assert job["needs"] == needs
        assert job["with"]["scope"] == "release"
        assert job["with"]["package"] == "${{ matrix.release.package }}"
        assert job["with"]["ref"] == "${{ matrix.release.tag }}"


def test_release_please_config_covers_every_package() -> None:
    config = json.loads((REPO_ROOT / "release-please-config.json").read_text())
    manifest = json.loads((REPO_ROOT / ".release-please-manifest.json").read_text())
    packages = listed_packages()
    assert len(packages) >= 8
    assert {path: entry["component"] for path, entry in config["packages"].items()} == {
        path: name for name, path in packages.items()
    }
    assert config["include-component-in-tag"] is True
    assert config["separate-pull-requests"] is True
    assert set(manifest) == set(config["packages"])
    for path, version in manifest.items():
        pyproject = (REPO_ROOT / path / "pyproject.toml").read_text()
        assert f'version = "{version}"' in pyproject, path
        assert (REPO_ROOT / path / "CHANGELOG.md").is_file(), path


@pytest.mark.parametrize("name", ["deploy.yml", "release.yml", "pulumi-stage.yml"])
def test_workflows_pin_actions_to_a_major_version(name: str) -> None:
    for step in steps(load(name)):
        if "uses" in step:
            assert "@v" in step["uses"], step["uses"]
