"""The bootstrap program under Pulumi's mocks: what the first `pulumi up` of a stage needs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pulumi
import pytest
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockMonitor
from ruamel.yaml import YAML

from todo_bootstrap import program

ACCOUNT = "123456789012"
REPO = "acme/todo-api-with-insights"
ROOT = Path(__file__).resolve().parents[3]


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: List[Tuple[str, str, Dict[str, Any]]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> Tuple[str, Dict[str, Any]]:
        self.resources.append((args.typ, args.name, dict(args.inputs)))
        state = dict(args.inputs)
        name = str(args.inputs.get("name") or args.inputs.get("bucket") or args.name)
        service = args.typ.split(":")[1].split("/")[0]
        state["arn"] = f"arn:aws:{service}::{ACCOUNT}:{name}"
        if args.typ == "aws:kms/key:Key":
            state["keyId"] = "key-1"
        return name, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> Tuple[Dict[str, Any], List[Any]]:
        return {"accountId": ACCOUNT, "arn": "a", "userId": "u", "id": ACCOUNT}, []


class OptionsMonitor(MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.protected: set = set()

    def RegisterResource(self, request: Any) -> Any:
        if request.protect:
            self.protected.add(request.name)
        return super().RegisterResource(request)


@pytest.fixture(scope="module")
def declared() -> Tuple[Dict[str, Dict[str, Any]], set]:
    mocks = Mocks()
    monitor = OptionsMonitor(mocks)
    runtime_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        mocks, project="todo-bootstrap", stack="account", preview=False, monitor=monitor
    )
    settings = program.BootstrapSettings(ACCOUNT, "us-east-1", REPO, "todo-pulumi-state-test")

    @pulumi.runtime.test
    def run() -> pulumi.Output[Any]:
        bootstrap = program.Bootstrap("bootstrap", settings)
        return bootstrap.state_bucket.arn

    run()
    return {
        name: {"type": typ, **inputs} for typ, name, inputs in mocks.resources
    }, monitor.protected


def policy(resources: Dict[str, Dict[str, Any]], name: str, key: str = "policy") -> dict:
    return json.loads(resources[name][key])


def test_state_bucket_is_versioned_encrypted_private_tls_only_and_protected(declared) -> None:  # type: ignore[no-untyped-def]
    resources, protected = declared
    assert resources["state-bucket"]["bucket"] == "todo-pulumi-state-test"
    assert resources["state-versioning"]["versioningConfiguration"] == {"status": "Enabled"}
    (rule,) = resources["state-encryption"]["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    block = resources["state-public-access-block"]
    assert all(
        block[k]
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    (deny,) = policy(resources, "state-tls-only")["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert {"state-bucket", "secrets-key"} <= protected


def test_the_secrets_key_is_the_one_every_stack_file_names(declared) -> None:  # type: ignore[no-untyped-def]
    resources, _ = declared
    assert resources["secrets-key"]["enableKeyRotation"] is True
    alias = resources["secrets-key-alias"]["name"]
    for stage in ("dev", "staging", "prod"):
        stack = YAML(typ="safe", pure=True).load(
            (ROOT / "platform/pulumi" / f"Pulumi.{stage}.yaml").read_text()
        )
        assert stack["secretsprovider"].startswith(f"awskms://{alias}?")


def test_github_oidc_roles_per_environment(declared) -> None:  # type: ignore[no-untyped-def]
    resources, _ = declared
    assert resources["github-oidc"]["url"] == "https://token.actions.githubusercontent.com"
    assert resources["github-oidc"]["clientIdLists"] == ["sts.amazonaws.com"]
    for stage in ("dev", "staging", "prod"):
        for role, env in ((f"deploy-{stage}", stage), (f"preview-{stage}", f"{stage}-preview")):
            (trust,) = policy(resources, role, "assumeRolePolicy")["Statement"]
            assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
            assert trust["Condition"]["StringEquals"] == {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": f"repo:{REPO}:environment:{env}",
            }


def test_preview_roles_read_only_decrypt_and_see_no_user_data(declared) -> None:  # type: ignore[no-untyped-def]
    resources, _ = declared
    for stage in ("dev", "staging", "prod"):
        assert resources[f"preview-{stage}-read-only"]["policyArn"] == program.READ_ONLY_POLICY_ARN
        statements = policy(resources, f"preview-{stage}-state")["Statement"]
        actions = {a for s in statements if s["Effect"] == "Allow" for a in s["Action"]}
        assert "kms:Decrypt" in actions
        assert not any(a.endswith(":*") for a in actions)
        deny = next(s for s in statements if s["Effect"] == "Deny")
        assert {"s3:GetObject", "dynamodb:Query", "secretsmanager:GetSecretValue"} <= set(
            deny["Action"]
        )
        state_objects = [
            r for s in statements if "s3:PutObject" in s["Action"] for r in s["Resource"]
        ]
        assert all(f"/{stage}" in r or r.endswith("meta.yaml") for r in state_objects)


def test_cost_allocation_tags_the_budgets_filter_on_are_activated(declared) -> None:  # type: ignore[no-untyped-def]
    resources, _ = declared
    tags = {
        r["tagKey"]: r["status"]
        for r in resources.values()
        if r["type"].startswith("aws:costexplorer")
    }
    assert tags == dict.fromkeys(program.COST_ALLOCATION_TAGS, "Active")
