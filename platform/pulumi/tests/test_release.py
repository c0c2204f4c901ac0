"""Release units: the --target/--exclude patterns hit exactly each service's code."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import List

import pytest
from harness import PROJECT_DIR, REPO_ROOT, StackRun, deployable_config

from todo_platform import release
from todo_platform.artifacts import DEPLOYABLES
from todo_platform.policies import FUNCTION, ResourceRecord


def etl_engine(run: StackRun) -> str:
    return str(deployable_config(run.stage)["todo-platform:etl"].get("engine", "pythonshell"))


def wheel_count(run: StackRun, key: str) -> int:
    return len([r for r in run.records if r.name.startswith(f"{key}-wheel-")])


def matching(run: StackRun, patterns: List[str]) -> List[ResourceRecord]:
    regexes = [release.urn_glob_regex(p) for p in patterns]
    return [r for r in run.records if r.urn and any(rx.match(r.urn) for rx in regexes)]


@pytest.mark.parametrize("deployable", DEPLOYABLES, ids=lambda d: d.package)
def test_targets_select_exactly_the_packages_code(run: StackRun, deployable) -> None:  # type: ignore[no-untyped-def]
    selected = matching(run, release.target_patterns(deployable.package))
    if deployable.kind == "lambda":
        # The function; its alias where the stage publishes versions, and its
        # copy in the second region (both: the API in prod).
        extra = [
            (r.type, r.name)
            for r in run.records
            if r.name
            in (deployable.alias_logical_name, f"standby-{deployable.function_logical_name}")
        ]
        assert sorted((r.type, r.name) for r in selected) == sorted(
            [("aws:lambda/function:Function", deployable.function_logical_name), *extra]
        )
    else:
        # The job, its script and its wheels: the job's own two (dummy) Python-shell
        # wheels, or the five of its Spark bundle.
        wheels = wheel_count(run, deployable.key)
        assert wheels == {"pythonshell": 2, "spark": 5}[etl_engine(run)]
        kinds = sorted(r.type for r in selected)
        assert kinds == ["aws:glue/job:Job"] + ["aws:s3/bucketObjectv2:BucketObjectv2"] * (
            1 + wheels
        )
        assert all(
            r.inputs.get("key", "").startswith(f"glue/{deployable.package}/")
            for r in selected
            if "bucketObjectv2" in r.type
        )


def test_excludes_cover_all_service_code_and_nothing_else(run: StackRun) -> None:
    excluded = matching(run, release.exclude_patterns())
    targeted = [r for d in DEPLOYABLES for r in matching(run, release.target_patterns(d.package))]
    assert sorted(r.urn for r in excluded) == sorted(r.urn for r in targeted)
    aliases = len(run.of_type("aws:lambda/alias:Alias"))
    standby_functions = len([r for r in run.of_type(FUNCTION) if r.name.startswith("standby-")])
    glue_code = sum(2 + wheel_count(run, d.key) for d in DEPLOYABLES if d.kind == "glue")
    assert len(excluded) == 4 + glue_code + aliases + standby_functions
    kinds = {r.type for r in excluded}
    assert "aws:iam/role:Role" not in kinds
    assert "aws:cloudwatch/logGroup:LogGroup" not in kinds


def test_glob_semantics_match_pulumis() -> None:
    rx = release.urn_glob_regex("**::silver-wheel-*")
    assert rx.match(
        "urn:pulumi:prod::todo-platform::todo:platform:TodoEtl$aws:s3/bucketObjectv2:BucketObjectv2::silver-wheel-x.whl"
    )
    assert not rx.match("urn:pulumi:prod::p::t::silver-wheel-a::b")  # `*` stops at ':'
    assert not release.urn_glob_regex("**::api-function").match(
        "urn:pulumi:s::p::t::old-api-function"
    )


def test_non_deployable_packages_and_bad_tags_are_rejected() -> None:
    with pytest.raises(ValueError, match="deploys nothing"):
        release.target_patterns("todo-core")
    assert release.package_of_tag("todo-api-v1.2.0") == "todo-api"
    assert release.package_of_tag("todo-etl-silver-v0.10.3-rc.1") == "todo-etl-silver"
    for tag in ("todo-api-1.2.0", "v1.2.0", "todo-api-vX"):
        with pytest.raises(ValueError, match="is not a <package>-v<semver> tag"):
            release.package_of_tag(tag)


def config() -> dict:
    return json.loads((REPO_ROOT / "release-please-config.json").read_text())


def test_released_deployables_from_release_please_outputs() -> None:
    outputs = {
        "releases_created": "true",
        "paths_released": json.dumps(["services/todo-api", "shared/todo_core", "etl/gold"]),
        "services/todo-api--tag_name": "todo-api-v1.2.0",
        "shared/todo_core--tag_name": "todo-core-v0.3.0",
        "etl/gold--tag_name": "todo-etl-gold-v0.2.0",
    }
    # todo-core's release re-releases every deployable that ships it, from its
    # tag; those released themselves keep their own tags.
    assert release.released_deployables(outputs, config()) == [
        {"package": "todo-api", "tag": "todo-api-v1.2.0"},
        {"package": "todo-cdc-processor", "tag": "todo-core-v0.3.0"},
        {"package": "todo-metrics-collector", "tag": "todo-core-v0.3.0"},
        {"package": "todo-kpi-aggregator", "tag": "todo-core-v0.3.0"},
        {"package": "todo-etl-silver", "tag": "todo-core-v0.3.0"},
        {"package": "todo-etl-gold", "tag": "todo-etl-gold-v0.2.0"},
    ]
    only_platform = {
        "paths_released": '["platform/pulumi"]',
        "platform/pulumi--tag_name": "todo-platform-v0.2.0",
    }
    assert release.released_deployables(only_platform, config()) == []
    assert release.released_deployables({"releases_created": "false"}, config()) == []
    with pytest.raises(ValueError, match="does not belong to todo-etl-gold"):
        release.released_deployables(
            {"paths_released": '["etl/gold"]', "etl/gold--tag_name": "todo-api-v1.0.0"}, config()
        )


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "todo_platform.release", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        check=False,
    )


def test_cli_prints_arguments_the_workflows_pass_to_pulumi() -> None:
    out = run_cli("targets", "todo-api")
    assert out.returncode == 0
    assert out.stdout.split() == [
        "--target=**::api-function",
        "--target=**::api-alias",
        "--target=**::standby-api-function",
    ]
    excludes = run_cli("excludes").stdout.split()
    assert len(excludes) == 4 * 3 + 2 * 3
    assert all(e.startswith("--exclude=**::") for e in excludes)
    assert run_cli("package", "todo-cdc-processor-v2.0.0").stdout.strip() == "todo-cdc-processor"
    assert run_cli("deployables").stdout.split() == [d.package for d in DEPLOYABLES]
    bad = run_cli("targets", "todo-local")
    assert bad.returncode == 2
    assert "deploys nothing" in bad.stderr


def test_cli_released_writes_a_github_output_line() -> None:
    import os

    env = {
        **os.environ,
        "RELEASE_PLEASE_OUTPUTS": json.dumps(
            {
                "paths_released": '["services/metrics-collector"]',
                "services/metrics-collector--tag_name": "todo-metrics-collector-v0.2.0",
            }
        ),
    }
    out = run_cli("released", "--config", "release-please-config.json", env=env)
    expected = [{"package": "todo-metrics-collector", "tag": "todo-metrics-collector-v0.2.0"}]
    assert out.stdout.strip() == "releases=" + json.dumps(expected)


def test_cli_released_with_a_tag_redeploys_that_release() -> None:
    out = run_cli("released", "--tag", "todo-etl-gold-v0.1.4")
    expected = [{"package": "todo-etl-gold", "tag": "todo-etl-gold-v0.1.4"}]
    assert out.stdout.strip() == "releases=" + json.dumps(expected)
    core = run_cli("released", "--tag", "todo-core-v0.2.0")
    assert core.stdout.strip() == "releases=" + json.dumps(
        [{"package": d.package, "tag": "todo-core-v0.2.0"} for d in DEPLOYABLES]
    )
    refused = run_cli("released", "--tag", "todo-local-v0.2.0")
    assert refused.returncode == 2
    assert "deploys nothing" in refused.stderr


def test_release_module_needs_only_the_standard_library() -> None:
    """release.yml runs it with a bare python3 and PYTHONPATH, before any install."""
    code = (
        "import sys; import todo_platform.release as r; "
        "heavy = ('pulumi', 'pulumi_aws', 'pydantic', 'todo_core'); "
        "bad = [m for m in sys.modules if m.split('.')[0] in heavy]; "
        "print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(PROJECT_DIR / "src")},
        check=True,
    )
    assert out.stdout.strip() == "[]"


def test_every_deployable_ships_todo_core_so_its_release_reaches_them_all() -> None:
    assert release.dependents_of("todo-core") == [d.package for d in DEPLOYABLES]
    assert release.dependents_of("todo-platform") == []


def test_a_spark_package_release_reaches_the_jobs_that_run_its_bundle() -> None:
    """todo-lake-spark is no deployable of its own: the silver and gold jobs ship it on Spark."""
    assert release.dependents_of("todo-lake-spark") == ["todo-etl-silver", "todo-etl-gold"]
    outputs = {
        "paths_released": '["etl/spark"]',
        "etl/spark--tag_name": "todo-lake-spark-v0.2.0",
    }
    config = {"packages": {"etl/spark": {"component": "todo-lake-spark"}}}
    assert release.released_deployables(outputs, config) == [
        {"package": "todo-etl-silver", "tag": "todo-lake-spark-v0.2.0"},
        {"package": "todo-etl-gold", "tag": "todo-lake-spark-v0.2.0"},
    ]
    assert release.tag_releases("todo-lake-spark-v0.2.0") == [
        {"package": "todo-etl-silver", "tag": "todo-lake-spark-v0.2.0"},
        {"package": "todo-etl-gold", "tag": "todo-lake-spark-v0.2.0"},
    ]


def test_an_empty_stack_deploys_everything_whatever_the_scope() -> None:
    for requested in ("all", "platform", "release"):
        assert release.effective_scope(requested, 0) == "all"
    assert release.effective_scope("platform", 250) == "platform"
    assert release.effective_scope("release", 1) == "release"
    with pytest.raises(ValueError, match="unknown scope"):
        release.effective_scope("everything", 3)
    assert run_cli("scope", "platform", "0").stdout.strip() == "all"
    assert run_cli("scope", "platform", "12").stdout.strip() == "platform"


def test_wheel_names_do_not_change_with_the_version_and_survive_deletion(run: StackRun) -> None:
    """A version bump must not make an excluded train delete a wheel a job installs."""
    wheels = [r for r in run.records if "-wheel-" in r.name]
    assert wheels
    for wheel in wheels:
        assert not any(ch.isdigit() for ch in wheel.name.split("-wheel-")[1]), wheel.name
        assert wheel.retain_on_delete, wheel.name
        digest = wheel.inputs["key"].split("/")[-2]
        assert len(digest) == 32
        assert all(c in "0123456789abcdef" for c in digest)


def test_a_preview_without_changes_asks_for_no_approval() -> None:
    unchanged = {"changeSummary": {"same": 212}, "steps": [{"op": "same", "urn": "u::a::b"}]}
    has_changes, markdown = release.summarize_preview(unchanged, "prod")
    assert has_changes is False
    assert "No changes" in markdown
    changed = {
        "changeSummary": {"same": 210, "update": 1, "create": 1},
        "steps": [
            {"op": "same", "urn": "urn:pulumi:prod::p::aws:s3/bucket:Bucket::bronze-bucket"},
            {
                "op": "update",
                "urn": "urn:pulumi:prod::p::aws:lambda/function:Function::api-function",
            },
            {
                "op": "create",
                "urn": "urn:pulumi:prod::p::aws:budgets/budget:Budget::monthly-budget",
            },
        ],
    }
    has_changes, markdown = release.summarize_preview(changed, "prod")
    assert has_changes is True
    assert "| update | `api-function` (aws:lambda/function:Function) |" in markdown
    assert "bronze-bucket" not in markdown
    assert release.summarize_preview({}, "prod")[0] is False


def test_cli_preview_summary_writes_a_github_output_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    preview = tmp_path / "preview.json"
    preview.write_text(json.dumps({"changeSummary": {"delete": 1}, "steps": []}))
    markdown = tmp_path / "preview.md"
    out = run_cli("preview-summary", str(preview), "prod", "--markdown", str(markdown))
    assert out.stdout.strip() == "changes=true"
    assert markdown.read_text().startswith("### pulumi preview (prod)")
