"""DNS failover between the two regions' APIs, when a hosted zone and a name are configured."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Dict

import pytest
from harness import API_ID, StackRun, cli_config, deployable_config, run_program

from todo_platform import policies

ZONE = "Z0123456789ABCDEFGHIJ"
DOMAIN = "api.todo.example.net"
STANDBY = "us-west-2"


@pytest.fixture(scope="module")
def with_failover(artifacts_dir: Path) -> StackRun:
    """Prod as committed, plus ``secondaryRegion.failover`` (a zone the team owns)."""
    config: Dict[str, Any] = copy.deepcopy(deployable_config("prod"))
    second = config["todo-platform:secondaryRegion"]
    second["failover"] = {"hostedZoneId": ZONE, "domainName": DOMAIN}
    return run_program("prod", cli_config(config), artifacts_dir)


def test_committed_stacks_have_no_failover(run: StackRun) -> None:
    assert run.of_type("aws:route53/record:Record") == []
    assert "FailoverApiUrl" not in run.secondary_outputs


def test_each_region_serves_the_name_with_a_certificate_of_its_own(with_failover: StackRun) -> None:
    run = with_failover
    for prefix, region in (("", None), ("standby-", STANDBY)):
        certificate = run.named(f"{prefix}api-certificate").inputs
        assert certificate["domainName"] == DOMAIN
        assert certificate["validationMethod"] == "DNS"
        assert certificate.get("region") == region
        validation = run.named(f"{prefix}api-certificate-validation").inputs
        assert validation["zoneId"] == ZONE
        assert validation["type"] == "CNAME"
        domain = run.named(f"{prefix}api-domain").inputs
        assert domain.get("region") == region
        assert domain["domainNameConfiguration"]["endpointType"] == "REGIONAL"
        assert domain["domainNameConfiguration"]["securityPolicy"] == "TLS_1_2"
        mapping = run.named(f"{prefix}api-mapping").inputs
        assert mapping["domainName"] == DOMAIN
        assert mapping.get("region") == region


def test_primary_and_secondary_records_follow_their_regions_health(
    with_failover: StackRun,
) -> None:
    run = with_failover
    expected = {"PRIMARY": ("", "us-east-1"), "SECONDARY": ("standby-", STANDBY)}
    for role, (prefix, region) in expected.items():
        check = run.named(f"{prefix}api-health-check").inputs
        assert check["type"] == "HTTPS"
        # Each region's own endpoint, never the shared name (which would follow the failover).
        assert check["fqdn"] == f"{API_ID}.execute-api.{region}.amazonaws.com"
        assert check["resourcePath"] == "/health"
        assert (check["port"], check["requestInterval"], check["failureThreshold"]) == (443, 30, 3)
        record = run.named(f"{prefix}api-failover-record").inputs
        assert record["zoneId"] == ZONE
        assert record["name"] == DOMAIN
        assert record["type"] == "A"
        assert record["failoverRoutingPolicies"] == [{"type": role}]
        assert record["healthCheckId"] == f"hc-{prefix}api-health-check"
        (alias,) = record["aliases"]
        assert alias["name"] == f"d-{region}.execute-api.{region}.amazonaws.com"
        assert alias["evaluateTargetHealth"] is True
    assert run.secondary_outputs["FailoverApiUrl"] == f"https://{DOMAIN}/"


def test_the_failover_resources_pass_every_policy(with_failover: StackRun) -> None:
    assert policies.run_all(with_failover.records) == []
    parents = {
        r.urn.split("::")[2].split("$")[0]
        for r in with_failover.records
        if r.type.startswith(("aws:route53", "aws:acm"))
    }
    assert parents == {"todo:platform:TodoFailover"}
