"""Run the Pulumi program under mocks and record every resource it declares.

``run_stack(stage)`` loads the committed ``Pulumi.<stage>.yaml`` into the
mocked configuration (values encoded as the Pulumi CLI passes them: strings,
structured values as JSON), runs ``todo_platform.program.build`` with a mock
engine, and returns every declared resource (type, logical name, inputs,
provider, URN) and the resolved stack outputs.

The mocks answer for AWS the way AWS would: each resource gets an ID, an ARN
and the computed attributes other resources consume, derived from its inputs,
so policy documents and outputs resolve to realistic strings.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pulumi
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockMonitor
from ruamel.yaml import YAML

from todo_platform.config import ARTIFACTS_DIR_ENV, PAGED_STAGES, PULUMI_PROJECT, load_settings
from todo_platform.policies import ResourceRecord

PROJECT_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = PROJECT_DIR.parent.parent
STAGES = ("dev", "staging", "prod")
ACCOUNT_ID = "123456789012"
API_ID = "a1b2c3d4e5"


def stack_file(stage: str) -> Dict[str, Any]:
    """The committed ``Pulumi.<stage>.yaml`` (YAML 1.2, as the Pulumi CLI reads it)."""
    yaml = YAML(typ="safe", pure=True)
    return dict(yaml.load((PROJECT_DIR / f"Pulumi.{stage}.yaml").read_text()))


def stack_file_config(stage: str) -> Dict[str, Any]:
    """The committed stack file's ``config`` block."""
    return dict(stack_file(stage)["config"])


def alert_address(stage: str) -> str:
    """What a platform engineer sets once per paged stack (not committed)."""
    return f"oncall-{stage}@ops.todo-app.io"


def deployable_config(stage: str) -> Dict[str, Any]:
    """The committed config plus what each paged stack must be given before its first run."""
    config = stack_file_config(stage)
    if stage in PAGED_STAGES:
        alerts = {**config["todo-platform:alerts"], "email": alert_address(stage)}
        config["todo-platform:alerts"] = alerts
    return config


def cli_config(raw: Dict[str, Any]) -> Dict[str, str]:
    """Encode config values the way the CLI hands them to a program."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}


def region_of(config: Dict[str, str]) -> str:
    return config["aws:region"]


def fake_state(
    typ: str, name: str, inputs: Dict[str, Any], region: str
) -> Tuple[str, Dict[str, Any]]:
    """An ID and output state for a resource, as AWS would compute them."""
    state = dict(inputs)
    region = inputs.get("region") or region
    account = ACCOUNT_ID
    physical = str(inputs.get("name") or name)
    rid = physical

    def arn(service: str, resource: str, regional: bool = True) -> str:
        return f"arn:aws:{service}:{region if regional else ''}:{account}:{resource}"

    if typ == "aws:s3/bucket:Bucket":
        bucket = str(inputs.get("bucket") or name)
        rid = bucket
        state.update(bucket=bucket, arn=f"arn:aws:s3:::{bucket}")
    elif typ == "aws:dynamodb/table:Table":
        state["arn"] = arn("dynamodb", f"table/{physical}")
        state["streamArn"] = state["arn"] + "/stream/2025-01-01T00:00:00.000"
    elif typ == "aws:kms/key:Key":
        rid = f"{name}-0000-1111"
        state.update(keyId=rid, arn=arn("kms", f"key/{rid}"))
    elif typ == "aws:cloudwatch/logGroup:LogGroup":
        state["arn"] = arn("logs", f"log-group:{physical}")
    elif typ == "aws:lambda/function:Function":
        state["arn"] = arn("lambda", f"function:{physical}")
        state["version"] = "7" if inputs.get("publish") else "$LATEST"
        state["invokeArn"] = (
            f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{state['arn']}/invocations"
        )
    elif typ == "aws:lambda/alias:Alias":
        state["arn"] = arn("lambda", f"function:{inputs['functionName']}:{physical}")
        state["invokeArn"] = (
            f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{state['arn']}/invocations"
        )
    elif typ == "aws:iam/role:Role":
        physical = str(inputs.get("name") or f"{name}-1234567")
        rid = physical
        state.update(name=physical, arn=f"arn:aws:iam::{account}:role/{physical}")
    elif typ == "aws:sqs/queue:Queue":
        rid = f"https://sqs.{region}.amazonaws.com/{account}/{physical}"
        state.update(arn=arn("sqs", physical), url=rid, name=physical)
    elif typ == "aws:sns/topic:Topic":
        state["arn"] = rid = arn("sns", physical)
    elif typ == "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
        state["arn"] = rid = arn("firehose", f"deliverystream/{physical}")
    elif typ == "aws:apigatewayv2/api:Api":
        rid = API_ID
        state.update(
            apiEndpoint=f"https://{API_ID}.execute-api.{region}.amazonaws.com",
            executionArn=arn("execute-api", API_ID),
            arn=f"arn:aws:apigateway:{region}::/apis/{API_ID}",
        )
    elif typ == "aws:apigatewayv2/stage:Stage":
        state["invokeUrl"] = f"https://{inputs['apiId']}.execute-api.{region}.amazonaws.com/"
    elif typ == "aws:cognito/userPool:UserPool":
        rid = f"{region}_Pool{len(physical)}x"
        state.update(
            arn=arn("cognito-idp", f"userpool/{rid}"),
            endpoint=f"cognito-idp.{region}.amazonaws.com/{rid}",
        )
    elif typ == "aws:cognito/userPoolClient:UserPoolClient":
        rid = f"client{len(physical)}abc"
    elif typ == "aws:glue/catalogDatabase:CatalogDatabase":
        rid = f"{account}:{physical}"
        state["arn"] = arn("glue", f"database/{physical}")
    elif typ == "aws:acm/certificate:Certificate":
        domain = str(inputs["domainName"])
        state["arn"] = arn("acm", f"certificate/{name}")
        state["domainValidationOptions"] = [
            {
                "domainName": domain,
                "resourceRecordName": f"_0a1b2c.{domain}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": "_3d4e5f.acm-validations.aws.",
            }
        ]
    elif typ == "aws:acm/certificateValidation:CertificateValidation":
        rid = str(inputs["certificateArn"])
    elif typ == "aws:apigatewayv2/domainName:DomainName":
        rid = str(inputs["domainName"])
        state["domainNameConfiguration"] = {
            **inputs["domainNameConfiguration"],
            "targetDomainName": f"d-{region}.execute-api.{region}.amazonaws.com",
            "hostedZoneId": f"Z{region.upper().replace('-', '')}",
        }
    elif typ == "aws:route53/record:Record":
        state["fqdn"] = str(inputs["name"]).rstrip(".")
    elif typ == "aws:route53/healthCheck:HealthCheck":
        rid = f"hc-{name}"
    elif typ == "aws:cloudwatch/eventRule:EventRule":
        state["arn"] = arn("events", f"rule/{physical}")
    elif typ == "aws:s3/bucketObjectv2:BucketObjectv2":
        rid = str(inputs.get("key"))
    elif typ == "random:index/randomPassword:RandomPassword":
        state["result"] = "s" * int(inputs.get("length", 32))
    elif typ.startswith("aws:"):
        service = typ.split(":")[1].split("/")[0]
        state.setdefault("arn", arn(service, physical))
    return rid, state


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers the engine like AWS would and remembers every resource."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.resources: List[Tuple[str, str, Dict[str, Any], str]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> Tuple[str, Dict[str, Any]]:
        self.resources.append((args.typ, args.name, dict(args.inputs), args.provider or ""))
        return fake_state(args.typ, args.name, dict(args.inputs), self.region)

    def call(self, args: pulumi.runtime.MockCallArgs) -> Tuple[Dict[str, Any], List[Any]]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/deployer/ci",
                "userId": "AROAEXAMPLE:ci",
                "id": ACCOUNT_ID,
            }, []
        raise NotImplementedError(f"no mock for {args.token}")


class OptionsRecordingMonitor(MockMonitor):
    """The mock engine, also remembering the resource options the mocks never see."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        #: (type, logical name) -> (protect, retainOnDelete, import id, ignoreChanges)
        self.options: Dict[Tuple[str, str], Tuple[bool, bool, str, Tuple[str, ...]]] = {}

    def RegisterResource(self, request: Any) -> Any:
        self.options[(request.type, request.name)] = (
            bool(request.protect),
            bool(request.retainOnDelete),
            request.importId,
            tuple(request.ignoreChanges),
        )
        return super().RegisterResource(request)


@dataclass
class StackRun:
    stage: str
    records: List[ResourceRecord]
    outputs: Dict[str, Any]
    stack: Any
    #: ``SECONDARY_REGION_OUTPUT_NAMES`` the stage exports (resolved).
    secondary_outputs: Dict[str, Any] = field(default_factory=dict)

    def of_type(self, typ: str) -> List[ResourceRecord]:
        return [r for r in self.records if r.type == typ]

    def one(self, typ: str, name: Optional[str] = None, **inputs: Any) -> ResourceRecord:
        found = [
            r
            for r in self.of_type(typ)
            if (name is None or r.name == name)
            and all(r.inputs.get(k) == v for k, v in inputs.items())
        ]
        assert len(found) == 1, (
            f"expected one {typ} {name or inputs}, found {[r.name for r in found]}"
        )
        return found[0]

    def named(self, name: str) -> ResourceRecord:
        found = [r for r in self.records if r.name == name]
        assert len(found) == 1, f"expected one resource named {name}, found {len(found)}"
        return found[0]


def _urn_type_and_name(urn: str) -> Tuple[str, str]:
    qualified, name = urn.split("::")[2:4]
    return qualified.split("$")[-1], name


def run_program(stage: str, config: Dict[str, str], artifacts_dir: Path) -> StackRun:
    """Run the program once with mocks; every resource and the resolved outputs."""
    from todo_platform import program

    previous = os.environ.get(ARTIFACTS_DIR_ENV)
    os.environ[ARTIFACTS_DIR_ENV] = str(artifacts_dir)
    try:
        pulumi.runtime.set_all_config(config)
        mocks = RecordingMocks(region_of(config))
        monitor = OptionsRecordingMonitor(mocks)
        # A fresh root stack per run (set_mocks only creates one if none exists).
        runtime_settings.ROOT.set(None)
        pulumi.runtime.set_mocks(
            mocks, project=PULUMI_PROJECT, stack=stage, preview=False, monitor=monitor
        )
        result: Dict[str, Any] = {}

        @pulumi.runtime.test
        def declare() -> pulumi.Output[Any]:
            stack = program.build(load_settings())
            result["stack"] = stack
            secondary = (
                pulumi.Output.all(**stack.secondary_outputs)
                if stack.secondary_outputs
                else pulumi.Output.from_input({})
            )
            return pulumi.Output.all(pulumi.Output.all(**stack.outputs), secondary).apply(
                lambda v: result.update(outputs=v[0], secondary_outputs=v[1])
            )

        declare()
    finally:
        if previous is None:
            os.environ.pop(ARTIFACTS_DIR_ENV, None)
        else:
            os.environ[ARTIFACTS_DIR_ENV] = previous

    urns = {_urn_type_and_name(u): u for u in monitor.resources}
    records = [
        ResourceRecord(
            typ,
            name,
            inputs,
            provider,
            urns.get((typ, name), ""),
            *monitor.options.get((typ, name), (False, False, "", ())),
        )
        for typ, name, inputs, provider in mocks.resources
    ]
    return StackRun(stage, records, result["outputs"], result["stack"], result["secondary_outputs"])


#: Third-party pins the dummy Glue manifests list (the builder takes them from etl/uv.lock).
DUMMY_GLUE_PINS = ("awswrangler==3.14.0", "pydantic==2.11.7")
#: ...and the dummy Spark bundles (Python 3.11 pins; never pyspark).
DUMMY_GLUE_SPARK_PINS = ("awswrangler==3.14.0", "duckdb==1.3.2", "sqlglot==26.0.0")
#: The wheels of a Spark bundle: the Spark package and everything it depends on.
SPARK_BUNDLE_WHEELS = (
    "todo_core",
    "todo_etl_gold",
    "todo_etl_silver",
    "todo_lake",
    "todo_lake_spark",
)
EMPTY_ZIP = b"PK\x05\x06" + b"\x00" * 18


def _digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_bundle(
    directory: Path, manifest: Dict[str, Any], script: str, script_text: str, wheels: List[str]
) -> None:
    """A builder-shaped bundle: script, wheels (bytes named after the file), glue-job.json."""
    from todo_platform.artifacts import GLUE_MANIFEST

    (directory / "wheels").mkdir(parents=True, exist_ok=True)
    (directory / script).write_text(script_text)
    for wheel in wheels:
        # The same wheel file has the same bytes in every bundle, as real builds do.
        (directory / wheel).write_bytes(EMPTY_ZIP + wheel.encode())
    manifest = {
        **manifest,
        "script": {"file": script, "sha256": _digest(directory / script)},
        "wheels": [{"file": w, "sha256": _digest(directory / w)} for w in sorted(wheels)],
    }
    (directory / GLUE_MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))


def write_dummy_artifacts(root: Path) -> Path:
    """Stand-ins for ``dist/`` (the builders' layout) so the program can run without a build."""
    from todo_platform.artifacts import DEPLOYABLES, glue_dir, glue_spark_dir, lambda_zip_path

    for deployable in DEPLOYABLES:
        if deployable.kind == "lambda":
            path = lambda_zip_path(root, deployable)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(EMPTY_ZIP)
            continue
        module = deployable.entry
        dist = deployable.package.replace("-", "_")
        _write_bundle(
            glue_dir(root, deployable),
            {
                "package": deployable.package,
                "module": module,
                "command": "pythonshell",
                "python_version": "3.9",
                "python_modules": list(DUMMY_GLUE_PINS),
                "additional_python_modules_pins": ",".join(DUMMY_GLUE_PINS),
            },
            module.replace(".", "_") + ".py",
            f"import runpy\nrunpy.run_module({module!r}, run_name='__main__')\n",
            [f"wheels/{dist}-0.1.0-py3-none-any.whl", "wheels/todo_core-0.1.0-py3-none-any.whl"],
        )
        if deployable.spark_entry:
            entry = deployable.spark_entry
            _write_bundle(
                glue_spark_dir(root, deployable),
                {
                    "package": deployable.package,
                    "module": entry,
                    "bundle": deployable.spark_bundle,
                    "command": "glueetl",
                    "python_version": "3.11",
                    "python_modules": list(DUMMY_GLUE_SPARK_PINS),
                    "additional_python_modules_pins": ",".join(DUMMY_GLUE_SPARK_PINS),
                },
                entry.replace(".", "_").replace(":", "_") + ".py",
                f"# launcher of {entry}\n",
                [f"wheels/{w}-0.1.0-py3-none-any.whl" for w in SPARK_BUNDLE_WHEELS],
            )
    return root


def etl_engine_config(config: Dict[str, Any], engine: str) -> Dict[str, Any]:
    """``config`` with the stage's ETL on ``engine``, as a platform engineer would switch it
    (``config`` itself when the stage already runs ``engine``).

    Python shell: the single 1/16-DPU worker, gold on DuckDB. Spark: each job's
    workers (silver 3 x G.2X, gold 2 x G.1X: sizes no committed stage uses, so
    the tests see them come from the configuration), gold on Spark.
    """
    if config["todo-platform:etl"].get("engine", "pythonshell") == engine:
        return config
    etl = {
        k: v
        for k, v in config["todo-platform:etl"].items()
        if k not in ("engine", "glueMaxCapacity", "spark", "goldEngine")
    }
    if engine == "spark":
        etl.update(
            engine="spark",
            spark={
                "silver": {"workerType": "G.2X", "numberOfWorkers": 3},
                "gold": {"workerType": "G.1X", "numberOfWorkers": 2},
            },
            goldEngine="spark",
        )
    else:
        etl.update(engine="pythonshell", glueMaxCapacity=0.0625, goldEngine="duckdb")
    return {**config, "todo-platform:etl": etl}
