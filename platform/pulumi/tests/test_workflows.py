"""Delivery: the workflows validate and wire OIDC, environments and releases together."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
from harness import PROJECT_DIR, REPO_ROOT, stack_file
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
        for name in ("dev", "staging", "prod-plan", "prod")
    ]
    assert chain == [
        ("dev", "dev", "up", None),
        ("staging", "staging", "up", "dev"),
        ("prod-plan", "prod", "preview", "staging"),
        ("prod", "prod", "up", "prod-plan"),
    ]
    assert jobs["dev"]["with"]["scope"] == "all"
    assert "platform" in jobs["prod"]["with"]["scope"]
    for job in jobs.values():
        assert job["uses"] == "./.github/workflows/pulumi-stage.yml"
        assert job["permissions"]["id-token"] == "write"


def test_prod_applies_exactly_the_plan_its_ungated_preview_saved() -> None:
    jobs = load("deploy.yml")["jobs"]
    plan, apply = jobs["prod-plan"], jobs["prod"]
    assert plan["with"]["plan"] is True
    assert apply["with"]["plan"] is True
    assert plan["with"]["scope"] == apply["with"]["scope"]
    # Nothing to change (a documentation-only push): no approval is asked for.
    assert apply["if"] == "needs.prod-plan.outputs.changes == 'true'"
    stage = load("pulumi-stage.yml")
    job = stage["jobs"]["pulumi"]
    # The preview runs in the ungated <stage>-preview environment, the apply in the stage's own.
    assert "format('{0}-preview', inputs.stage)" in job["environment"]
    assert job["environment"].startswith("${{ inputs.command == 'up' && inputs.stage")
    runs = {s.get("name"): s.get("run", "") for s in job["steps"]}
    assert '--save-plan "$RUNNER_TEMP/plan/plan.json"' in runs["pulumi preview"]
    assert '--plan "$RUNNER_TEMP/plan/plan.json"' in runs["pulumi up"]
    assert "preview-summary" in runs["Write the diff to the job summary"]
    assert "$GITHUB_STEP_SUMMARY" in runs["Write the diff to the job summary"]
    assert stage["on"]["workflow_call"]["outputs"]["changes"]["value"] == (
        "${{ jobs.pulumi.outputs.changes }}"
    )
    # The apply uses the artifacts the plan was computed from.
    uses = [s.get("uses", "") for s in job["steps"]]
    assert any(u.startswith("actions/upload-artifact") for u in uses)
    assert any(u.startswith("actions/download-artifact") for u in uses)


@pytest.mark.parametrize("name", ["deploy.yml", "release.yml", "pulumi-stage.yml"])
def test_every_run_step_fails_on_a_failing_pipeline(name: str) -> None:
    """GitHub's `bash` shell is `bash -e -o pipefail`; its default shell has no pipefail."""
    workflow = load(name)
    default = workflow.get("defaults", {}).get("run", {}).get("shell")
    for job in workflow["jobs"].values():
        job_default = job.get("defaults", {}).get("run", {}).get("shell", default)
        for step in job.get("steps", []):
            if "run" in step:
                assert step.get("shell", job_default) == "bash", (name, step.get("name"))


def test_no_waiting_deploy_can_be_cancelled_by_another_workflow() -> None:
    groups = {}
    for name in ("deploy.yml", "release.yml"):
        for job_name, job in load(name)["jobs"].items():
            if job.get("with", {}).get("command") == "up" or job_name.startswith("prod"):
                concurrency = job.get("concurrency")
                assert concurrency, (name, job_name)
                assert concurrency["cancel-in-progress"] is False
                groups.setdefault(concurrency["group"], set()).add(name)
    # A group shared by two workflows lets one's pending job replace the other's.
    assert all(len(workflows) == 1 for workflows in groups.values()), groups
    assert "concurrency" not in load("pulumi-stage.yml")["jobs"]["pulumi"]


def test_stacks_are_created_by_ci_with_the_kms_secrets_provider() -> None:
    job = load("pulumi-stage.yml")["jobs"]["pulumi"]
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert 'pulumi stack select --create --secrets-provider "$SECRETS_PROVIDER" "$STAGE"' in runs
    assert "sed -n 's/^secretsprovider: //p'" in runs
    for stage in ("dev", "staging", "prod"):
        provider = stack_file(stage)["secretsprovider"]
        assert provider.startswith("awskms://alias/todo-pulumi-secrets?region=")


def test_an_empty_stack_is_deployed_whole() -> None:
    job = load("pulumi-stage.yml")["jobs"]["pulumi"]
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert "pulumi stack export" in runs
    assert 'todo_platform.release scope "$SCOPE" "$RESOURCES"' in runs


def test_the_pipeline_enforces_the_policy_pack() -> None:
    stage = load("pulumi-stage.yml")
    assert stage["env"]["POLICY_PACK"] == "platform/pulumi/policy-pack"
    runs = {s.get("name"): s.get("run", "") for s in stage["jobs"]["pulumi"]["steps"]}
    for step in ("pulumi preview", "pulumi up"):
        assert '--policy-pack "../../$POLICY_PACK"' in runs[step]
    assert (REPO_ROOT / stage["env"]["POLICY_PACK"] / "PulumiPolicy.yaml").is_file()


def test_the_cli_is_pinned_to_the_locked_sdk_and_the_program_uses_uv() -> None:
    import tomllib

    stage = load("pulumi-stage.yml")
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    (sdk,) = [p["version"] for p in lock["package"] if p["name"] == "pulumi"]
    assert stage["env"]["PULUMI_VERSION"] == sdk
    (install,) = [
        s
        for s in stage["jobs"]["pulumi"]["steps"]
        if s.get("uses", "").startswith("pulumi/actions")
    ]
    assert install["with"]["pulumi-version"] == "${{ env.PULUMI_VERSION }}"
    project = YAML(typ="safe", pure=True).load((PROJECT_DIR / "Pulumi.yaml").read_text())
    assert project["runtime"]["options"]["toolchain"] == "uv"


def test_release_please_acts_with_an_app_token() -> None:
    jobs = load("release.yml")["jobs"]
    steps_ = jobs["release-please"]["steps"]
    token = next(
        s for s in steps_ if s.get("uses", "").startswith("actions/create-github-app-token")
    )
    assert token["with"]["private-key"] == "${{ secrets.RELEASE_APP_PRIVATE_KEY }}"
    please = next(s for s in steps_ if "release-please-action" in s.get("uses", ""))
    assert please["with"]["token"] == "${{ steps.app-token.outputs.token }}"
    checkout = next(
        s for s in jobs["relock"]["steps"] if s.get("uses", "").startswith("actions/checkout")
    )
    assert checkout["with"]["token"] == "${{ steps.app-token.outputs.token }}"
    assert "GITHUB_TOKEN" not in json.dumps(load("release.yml"))


def test_release_deploys_only_the_released_package_from_its_tag() -> None:
    rel = load("release.yml")
    jobs = rel["jobs"]
    please = next(
        s for s in jobs["release-please"]["steps"] if "release-please-action" in s.get("uses", "")
    )
    assert please["with"]["config-file"] == "release-please-config.json"
    assert please["with"]["manifest-file"] == ".release-please-manifest.json"
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
