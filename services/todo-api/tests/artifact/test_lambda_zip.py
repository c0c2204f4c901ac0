"""The Lambda zip, as shipped: built once, unzipped into an empty folder and
run by a clean Python 3.12 that sees nothing but that folder."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import zipfile
from pathlib import Path
from typing import Any, Dict

import pytest

from todo_local.lambda_artifact import build_lambda_zip, describe, find_python

PACKAGE = Path(__file__).resolve().parents[2]
EVENTS = PACKAGE / "tests" / "events"


@pytest.fixture(scope="session")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_lambda_zip("todo-api", PACKAGE, tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def task_root(artifact: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("var-task")
    with zipfile.ZipFile(artifact) as archive:
        archive.extractall(root)
    return root


def run_clean(task_root: Path, code: str, env: Dict[str, str]) -> Dict[str, Any]:
    """Run ``code`` in ``python3.12 -I -S`` with only ``task_root`` importable."""
    program = (
        f"import sys; sys.path[:] = [{str(task_root)!r}]"
        " + [p for p in sys.path if 'site-packages' not in p]\n"
    )
    result = subprocess.run(
        [find_python("3.12"), "-I", "-S", "-B", "-c", program + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(task_root),
        env={
            "PATH": os.environ.get("PATH", ""),
            "AWS_LAMBDA_FUNCTION_NAME": "todo-api-handler-test",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "STAGE": "smoke",
            # The configuration the handler validates at import.
            "TABLE_NAME": "todo-app-data-smoke",
            "CURSOR_SECRET_ID": "todo-app/smoke/cursor-signing-key",
            "COGNITO_USER_POOL_ID": "us-east-1_smoke",
            "COGNITO_CLIENT_ID": "smoke-client",
            **env,
        },
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_health_in_a_clean_interpreter(task_root: Path) -> None:
    out = run_clean(
        task_root,
        f"""
        import json, sys
        import todo_api.handler as handler
        event = json.loads(open({str(EVENTS / "health.json")!r}).read())
        response = handler.lambda_handler(event, None)
        modules = sorted(sys.modules)
        print(json.dumps({{
            "response": response,
            "handler_file": handler.__file__,
            "foreign": [m.__file__ for m in list(sys.modules.values())
                        if getattr(m, "__file__", None) and "site-packages" in m.__file__],
            # (Powertools reads botocore's bare package for its user agent: 1 ms.)
            "heavy": [m for m in modules if m.split(".")[0] in ("pandas", "pyarrow", "boto3")
                      or m.startswith("botocore.")],
        }}))
    """,
        {},
    )
    assert out["response"]["statusCode"] == 200
    assert json.loads(out["response"]["body"]) == {
        "status": "ok",
        "version": "0.1.0",
        "environment": "smoke",
    }
    assert out["handler_file"].startswith(str(task_root))
    assert out["foreign"] == []
    # boto3 is loaded by the first request that needs AWS, never for /health.
    assert out["heavy"] == []


def test_every_runtime_path_imports_from_the_zip(task_root: Path, tmp_path: Path) -> None:
    """Auth (RS256 verify), idempotency, repository and errors, inside the zip alone."""
    out = run_clean(
        task_root,
        """
        import json, time
        import jwt
        from cryptography.hazmat.primitives.asymmetric import rsa
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        token = jwt.encode({"sub": "u", "iss": "i", "exp": time.time() + 60, "iat": time.time(),
                            "token_use": "id", "aud": "c"}, key, algorithm="RS256")
        claims = jwt.decode(token, key.public_key(), algorithms=["RS256"], audience="c", issuer="i")
        import todo_api.handler as handler
        container = handler.app.state.container
        container.tasks, container.profiles, container.idempotency
        import boto3, botocore.session
        services = botocore.session.get_session().get_available_services()
        print(json.dumps({"sub": claims["sub"], "services": services}))
    """,
        {
            "TABLE_NAME": "t",
            "CURSOR_SECRET_ID": "todo-app/prod/cursor-signing-key",
            "COGNITO_CLIENT_ID": "c",
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
        },
    )
    assert out["sub"] == "u"
    assert out["services"] == ["dynamodb", "secretsmanager"]


def test_contents_are_what_the_function_needs(artifact: Path) -> None:
    with zipfile.ZipFile(artifact) as archive:
        names = archive.namelist()
        infos = archive.infolist()
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert "todo_api/handler.py" in names
    # Test doubles stay with the tests.
    assert not [n for n in names if n.startswith(("todo_api/testing", "tests/"))]
    assert "todo_core/repository.py" in names
    assert any(n.startswith("todo_api-") and n.endswith(".dist-info/METADATA") for n in names)
    # Real installs, not editable links; no tests, scripts or stale byte code.
    assert not [n for n in names if n.endswith(".pth") or "__editable__" in n]
    assert not [
        n
        for n in names
        if n.startswith(("bin/", "tests/")) or "/tests/" in n.split(".dist-info")[0]
    ]
    assert not [n for n in names if n.endswith("/RECORD") or n.endswith("direct_url.json")]
    pycs = [n for n in names if n.endswith(".pyc")]
    assert pycs
    assert all(".cpython-312" in n for n in pycs)
    assert not [
        n
        for n in names
        if n.startswith("botocore/data/")
        and n.count("/") > 2
        and not n.startswith(("botocore/data/dynamodb/", "botocore/data/secretsmanager/"))
    ]
    assert not [n for n in names if n.startswith("aws_lambda_powertools/event_handler/")]
    # Byte code is checked against its source (valid whatever the unzip does to mtimes).
    with zipfile.ZipFile(artifact) as archive:
        header = archive.read("todo_api/__pycache__/handler.cpython-312.pyc")[:8]
    assert int.from_bytes(header[4:8], "little") == 0b11  # hash-based, checked


def test_size_is_reported(artifact: Path) -> None:
    info = describe(artifact)
    print(
        f"artifact: {info.zipped_bytes / 1e6:.2f} MB zipped, "
        f"{info.unzipped_bytes / 1e6:.2f} MB unzipped"
    )
    assert info.zipped_bytes < 50 * 1024 * 1024  # Lambda's hard limit for a direct upload
    assert info.unzipped_bytes < 250 * 1024 * 1024  # and for the unzipped function
