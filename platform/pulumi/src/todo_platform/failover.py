"""TodoFailover: one name for the API, answered by the healthy region (Route 53 failover).

Optional (``secondaryRegion.failover``): it needs a public hosted zone and a
name in it. Each region's HTTP API gets the custom domain (an ACM certificate
of its own region, validated in the zone) and a Route 53 health check on its
``GET /health``; two alias records with the failover routing policy answer
with the stage's region while its check passes (PRIMARY) and with the
standby otherwise (SECONDARY). Without it, each region keeps its own
execute-api endpoint and clients switch by configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Sequence

import pulumi
import pulumi_aws as aws

from todo_core.naming import ResourceNames
from todo_platform.blocks import child
from todo_platform.config import FailoverSettings
from todo_platform.http_api import HEALTH_ROUTE

#: The TLS policy of the custom domain (API Gateway's newest for regional domains).
SECURITY_POLICY = "TLS_1_2"
#: ``GET /health`` -> ``/health``: what Route 53 requests in each region.
HEALTH_PATH = HEALTH_ROUTE.split(" ", 1)[1]


@dataclass(frozen=True)
class RegionalEndpoint:
    """One region's API: ``region`` ``None`` is the stage's own."""

    role: str  # "PRIMARY" or "SECONDARY"
    prefix: str
    region: Optional[str]
    api_id: pulumi.Input[str]
    api_endpoint: pulumi.Input[str]
    stage_id: pulumi.Input[str]


@dataclass(frozen=True)
class TodoFailoverArgs:
    failover: FailoverSettings
    names: ResourceNames
    #: The PRIMARY (stage's region) and SECONDARY (standby) endpoints.
    endpoints: Sequence[RegionalEndpoint]


class TodoFailover(pulumi.ComponentResource):
    """Custom domain, certificates, health checks and failover records for the API."""

    def __init__(
        self, name: str, args: TodoFailoverArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        super().__init__("todo:platform:TodoFailover", name, None, opts)
        self._args = args
        self.health_checks: Dict[str, aws.route53.HealthCheck] = {}
        self.records: Dict[str, aws.route53.Record] = {}
        for endpoint in args.endpoints:
            domain = self._domain(endpoint)
            check = self._health_check(endpoint)
            self.health_checks[endpoint.role] = check
            self.records[endpoint.role] = self._record(endpoint, domain, check)
        self.url: pulumi.Output[str] = pulumi.Output.concat(
            "https://", args.failover.domain_name, "/"
        )
        self.register_outputs({"failoverApiUrl": self.url})

    def _domain(self, endpoint: RegionalEndpoint) -> aws.apigatewayv2.DomainName:
        """The name on this region's API, with a certificate of this region (ACM is regional)."""
        failover, key, region = self._args.failover, endpoint.prefix, endpoint.region
        certificate = aws.acm.Certificate(
            f"{key}api-certificate",
            domain_name=failover.domain_name,
            validation_method="DNS",
            region=region,
            opts=child(self),
        )
        option = certificate.domain_validation_options[0]
        validation_record = aws.route53.Record(
            f"{key}api-certificate-validation",
            zone_id=failover.hosted_zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=300,
            # ACM asks for the same record in every region for one name and account.
            allow_overwrite=True,
            opts=child(self),
        )
        validated = aws.acm.CertificateValidation(
            f"{key}api-certificate-validated",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[validation_record.fqdn],
            region=region,
            opts=child(self),
        )
        domain = aws.apigatewayv2.DomainName(
            f"{key}api-domain",
            domain_name=failover.domain_name,
            domain_name_configuration=aws.apigatewayv2.DomainNameDomainNameConfigurationArgs(
                certificate_arn=validated.certificate_arn,
                endpoint_type="REGIONAL",
                security_policy=SECURITY_POLICY,
            ),
            region=region,
            opts=child(self),
        )
        aws.apigatewayv2.ApiMapping(
            f"{key}api-mapping",
            api_id=endpoint.api_id,
            domain_name=domain.id,
            stage=endpoint.stage_id,
            region=region,
            opts=child(self),
        )
        return domain

    def _health_check(self, endpoint: RegionalEndpoint) -> aws.route53.HealthCheck:
        """Route 53 asks this region's own endpoint (not the shared name) for ``/health``."""
        failover = self._args.failover
        host = pulumi.Output.from_input(endpoint.api_endpoint).apply(
            lambda url: url.removeprefix("https://").rstrip("/")
        )
        return aws.route53.HealthCheck(
            f"{endpoint.prefix}api-health-check",
            type="HTTPS",
            fqdn=host,
            port=443,
            resource_path=HEALTH_PATH,
            request_interval=failover.health_check_interval_seconds,
            failure_threshold=failover.failure_threshold,
            # Server Name Indication: API Gateway serves many hosts on one address.
            enable_sni=True,
            tags={"Name": f"{self._args.names.api_health_check}-{endpoint.role.lower()}"},
            opts=child(self),
        )

    def _record(
        self,
        endpoint: RegionalEndpoint,
        domain: aws.apigatewayv2.DomainName,
        check: aws.route53.HealthCheck,
    ) -> aws.route53.Record:
        failover, names = self._args.failover, self._args.names
        configuration = domain.domain_name_configuration
        return aws.route53.Record(
            f"{endpoint.prefix}api-failover-record",
            zone_id=failover.hosted_zone_id,
            name=failover.domain_name,
            type="A",
            set_identifier=f"{names.api}-{endpoint.role.lower()}",
            failover_routing_policies=[
                aws.route53.RecordFailoverRoutingPolicyArgs(type=endpoint.role)
            ],
            health_check_id=check.id,
            aliases=[
                aws.route53.RecordAliasArgs(
                    name=configuration.target_domain_name,
                    zone_id=configuration.hosted_zone_id,
                    evaluate_target_health=True,
                )
            ],
            opts=child(self),
        )
