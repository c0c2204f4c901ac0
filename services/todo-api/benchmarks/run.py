# ruff: noqa: E501 - the report is markdown table rows, kept one per line
"""todo-api benchmarks: cold init, warm per-request overhead, artifact size.

    python benchmarks/run.py --out benchmarks/RESULTS.md [--runs 15] [--requests 3000]

Run from services/todo-api in the package's test environment (``nox -s bench``
does). What is measured:

* **cold init**: a fresh ``python3.12 -I -S -B`` process importing the handler
  module from the *unzipped Lambda artifact* (the bytes that ship), side by
  side with a minimal FastAPI + Mangum hello-world handler importing from the
  same folder, interleaved run by run. Also: the same import from the
  artifact built without byte code (``--bytecode none``), which is the
  measurement behind shipping checked-hash ``.pyc`` files.
* **warm overhead**: API Gateway v2 events through ``lambda_handler``-style
  Mangum calls in one warm process, with real RS256 JWT verification; the
  database is replaced by ``tests.fakes.InMemoryRepository`` (dict
  look-ups), so what is timed is the API layer only. Baseline: a hello-world
  FastAPI route through the same Mangum path.
* **artifact size**: zipped and unzipped.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

PACKAGE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PACKAGE))

HELLO = """
from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()


@app.get("/health")
async def health():
    return {"status": "ok"}


lambda_handler = Mangum(app, lifespan="off")
"""


def quantiles(values: Sequence[float]) -> Tuple[float, float, float, float]:
    ordered = sorted(values)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return statistics.median(ordered), q[24], q[74], q[98]


# --- cold init ---------------------------------------------------------------------


def _import_time(
    python: str, root: Path, module: str, env: Dict[str, str]
) -> Tuple[float, List[str]]:
    code = (
        "import sys, time, json\n"
        f"sys.path[:] = [{str(root)!r}] + [p for p in sys.path if 'site-packages' not in p]\n"
        "t = time.perf_counter()\n"
        f"import {module}\n"
        "elapsed = time.perf_counter() - t\n"
        "print(json.dumps([elapsed, sorted({m.split('.')[0] for m in sys.modules})]))\n"
    )
    out = subprocess.run(
        [python, "-I", "-S", "-B", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=str(root),
        env=env,
    )
    elapsed, modules = json.loads(out.stdout.strip().splitlines()[-1])
    return float(elapsed), list(modules)


def cold_init(runs: int, work: Path) -> Dict[str, Any]:
    from todo_local.lambda_artifact import build_lambda_zip, describe, find_python

    python = find_python("3.12")
    roots: Dict[str, Path] = {}
    sizes: Dict[str, Any] = {}
    for mode in ("checked-hash", "none"):
        zip_path = build_lambda_zip("todo-api", PACKAGE, work / mode, bytecode=mode)
        sizes[mode] = describe(zip_path)
        root = work / f"task-{mode}"
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(root)
        (root / "hello_handler.py").write_text(HELLO, encoding="utf-8")
        if mode == "checked-hash":
            subprocess.run(
                [
                    python,
                    "-m",
                    "compileall",
                    "-q",
                    "--invalidation-mode",
                    "checked-hash",
                    str(root / "hello_handler.py"),
                ],
                check=True,
            )
        roots[mode] = root
    env = {
        "PATH": os.environ.get("PATH", ""),
        "STAGE": "bench",
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "todo-api-handler-bench",
        # The configuration the handler validates at import.
        "TABLE_NAME": "todo-app-data-bench",
        "CURSOR_SECRET_ID": "todo-app/bench/cursor-signing-key",
        "COGNITO_USER_POOL_ID": "us-east-1_bench",
        "COGNITO_CLIENT_ID": "bench-client",
    }
    samples: Dict[str, List[float]] = {"hello": [], "api": [], "api_no_pyc": []}
    imported: List[str] = []
    for run in range(runs + 1):
        order = [
            ("hello", "checked-hash", "hello_handler"),
            ("api", "checked-hash", "todo_api.handler"),
            ("api_no_pyc", "none", "todo_api.handler"),
        ]
        if run % 2:
            order.reverse()
        for name, mode, module in order:
            elapsed, modules = _import_time(python, roots[mode], module, env)
            if run:  # the first round warms the OS file cache
                samples[name].append(elapsed)
            if name == "api":
                imported = modules
    return {"samples": samples, "imported": imported, "sizes": sizes}


# --- warm overhead -------------------------------------------------------------------------


def warm_overhead(requests: int) -> Dict[str, List[float]]:
    from mangum import Mangum
    from tests.conftest import (
        UNIT_CLIENT,
        UNIT_ISSUER,
        UNIT_KID,
        Keys,
        StaticJwks,
        TokenFactory,
        load_event,
    )
    from tests.fakes import InMemoryRepository, in_memory_idempotency

    from todo_api.app import create_app
    from todo_api.auth import JwtVerifier
    from todo_api.settings import Settings

    keys = Keys()
    tokens = TokenFactory(keys)
    verifier = JwtVerifier(
        "https://x.invalid/jwks.json",
        UNIT_ISSUER,
        UNIT_CLIENT,
        jwks_client=StaticJwks([Keys.jwk(keys.signing, UNIT_KID)]),
    )
    settings = Settings(
        stage="bench",
        table_name="bench",
        cursor_secret_id="todo-app/bench/cursor-signing-key",  # noqa: S106 - a name, not a key
        cognito_client_id=UNIT_CLIENT,
        cognito_issuer=UNIT_ISSUER,
        blocking_io="inline",
    )
    repository = InMemoryRepository()
    app = create_app(
        settings,
        tasks=repository,
        profiles=repository,
        idempotency=in_memory_idempotency(),
        verifier=verifier,
    )
    handler = Mangum(app, lifespan="off")
    threaded = Mangum(
        create_app(
            settings.model_copy(update={"blocking_io": "threadpool"}),
            tasks=repository,
            profiles=repository,
            idempotency=in_memory_idempotency(),
            verifier=verifier,
        ),
        lifespan="off",
    )
    hello_namespace: Dict[str, Any] = {}
    exec(HELLO, hello_namespace)  # noqa: S102 - our own constant
    hello = hello_namespace["lambda_handler"]

    reader, writer = tokens.token(sub="bench-reader"), tokens.token(sub="bench-writer")
    list_event = load_event("list_tasks.json", token=reader)
    create_event = load_event("create_task_base64.json", token=writer)
    health_event = load_event("health.json")
    for _ in range(5):  # the reader's five tasks to list
        assert (
            handler(load_event("create_task_base64.json", token=reader), None)["statusCode"] == 201
        )

    def timed(call: Callable[[], Any], before: Callable[[], None] = lambda: None) -> List[float]:
        values = []
        for _ in range(requests):
            before()
            started = time.perf_counter_ns()
            call()
            values.append((time.perf_counter_ns() - started) / 1000.0)
        return values

    def forget_tokens() -> None:
        verifier._verified.clear()

    cases: Dict[str, Callable[[], Any]] = {
        "hello": lambda: hello(health_event, None),
        "list": lambda: handler(list_event, None),
        "create": lambda: handler(create_event, None),
        # The same list request with AWS work moved to a worker thread (uvicorn's setting).
        "list_threadpool": lambda: threaded(list_event, None),
    }
    results: Dict[str, List[float]] = {
        name: [] for name in [*cases, "list_fresh_jwt", "create_fresh_jwt"]
    }
    # The API logs one JSON line per request; a real stdout would be CloudWatch.
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        for call in cases.values():
            timed(call)  # warm-up
        for _ in range(3):  # interleave blocks so drift hits every case alike
            for name, call in cases.items():
                results[name] += timed(call)
            results["list_fresh_jwt"] += timed(cases["list"], forget_tokens)
            results["create_fresh_jwt"] += timed(cases["create"], forget_tokens)
    return results


# --- report --------------------------------------------------------------------------------


def machine() -> str:
    return (
        f"Machine: processor `{platform.processor() or platform.machine()}`, {os.cpu_count()} cores, "
        f"Python {platform.python_version()} ({platform.system()})"
    )


GAPS = [
    'Where the warm time goes (cProfile of 3,000 warm GET /api/v1/tasks; shares of one request):',
    "Starlette/FastAPI's request machinery, which the hello world pays too, about 45%; the",
    'Powertools JSON access-log line about 20%; the route itself about 20% (query validation,',
    "five task bodies, JSON); the request middleware about 5%. Before this change FastAPI's",
    'dependency and body resolution took about 13% of a GET and 23% of a POST; it is gone (the',
    'routes resolve the caller and parse the body in one pydantic call, and the resource routers',
    'are included at one level, as nested routers are matched level by level). The previous run',
    'measured 2.93x (GET) and 3.48x (POST). The 2.0x goal is not met: what is',
    "left over the hello world is mostly the runbook's log line and the response's serialization.",
    'RS256 is paid once per token (a warm container re-checks only the expiry of a token it has',
    'verified). Cold init is noisy on this shared machine (1.24x-1.49x across runs); the extra',
    "is pydantic-settings, Powertools Logger and the app's own models. The zip misses the size",
    "goal by the checked-hash .pyc files (they halve cold init, row above) and cryptography's",
    'native module (RS256); without .pyc it meets it.',
]


def render(cold: Dict[str, Any], warm: Dict[str, List[float]]) -> str:
    rows: List[str] = []
    s = cold["samples"]
    hello_median = statistics.median(s["hello"])

    def cold_row(what: str, values: List[float], goal: str, met: str) -> None:
        median, q1, q3, _ = quantiles(values)
        rows.append(
            f"| {what} | {median * 1000:.0f} ms | {q1 * 1000:.0f}-{q3 * 1000:.0f} ms (IQR) | "
            f"{median / hello_median:.2f}x | {goal} | {met} |"
        )

    api_ratio = statistics.median(s["api"]) / hello_median
    heavy = [m for m in cold["imported"] if m in ("pandas", "pyarrow")]
    cold_row("cold init: FastAPI+Mangum hello world (baseline)", s["hello"], "-", "-")
    cold_row(
        "cold init: import todo_api.handler (shipped zip, checked-hash .pyc)",
        s["api"],
        "<= 1.3x hello world",
        "yes" if api_ratio <= 1.3 else "no",
    )
    cold_row("cold init: same zip built without .pyc", s["api_no_pyc"], "(decides .pyc)", "-")
    rows.append(
        f"| cold init: pandas / pyarrow in the import graph | {', '.join(heavy) or 'none'} | - | - | none | "
        f"{'yes' if not heavy else 'no'} |"
    )

    hello_warm = statistics.median(warm["hello"])
    for name, label in (
        ("list", "warm GET /api/v1/tasks (5 tasks), verified-token cache hit"),
        ("create", "warm POST /api/v1/tasks, verified-token cache hit"),
        ("list_fresh_jwt", "warm GET /api/v1/tasks, full RS256 verification"),
        ("create_fresh_jwt", "warm POST /api/v1/tasks, full RS256 verification"),
    ):
        median, q1, q3, p99 = quantiles(warm[name])
        cached = "fresh" not in name  # the goal is for a warm container's usual request
        met = ("yes" if median / hello_warm <= 2.0 else "no") if cached else "-"
        goal = "<= 2.0x hello world" if cached else "(first request of a token)"
        rows.append(
            f"| {label} | p50 {median:.0f} us, p99 {p99:.0f} us | {q1:.0f}-{q3:.0f} us (IQR) | "
            f"{median / hello_warm:.2f}x | {goal} | {met} |"
        )
    median, q1, q3, p99 = quantiles(warm["list_threadpool"])
    rows.append(
        f"| warm GET /api/v1/tasks with BLOCKING_IO=threadpool (uvicorn's mode; Lambda runs inline) | "
        f"p50 {median:.0f} us, p99 {p99:.0f} us | {q1:.0f}-{q3:.0f} us (IQR) | "
        f"{median / hello_warm:.2f}x | (decides inline on Lambda) | - |"
    )
    median, q1, q3, p99 = quantiles(warm["hello"])
    rows.append(
        f"| warm hello-world GET through Mangum (baseline) | p50 {median:.0f} us, p99 {p99:.0f} us | "
        f"{q1:.0f}-{q3:.0f} us (IQR) | 1.00x | - | - |"
    )
    for mode, label in (("checked-hash", "shipped"), ("none", "without .pyc")):
        info = cold["sizes"][mode]
        zipped, unzipped = info.zipped_bytes / 1e6, info.unzipped_bytes / 1e6
        met = "yes" if zipped <= 10 and unzipped <= 30 else "no"
        rows.append(
            f"| artifact size ({label}) | {zipped:.2f} MB zipped, {unzipped:.2f} MB unzipped | - | - | "
            f"<= 10 MB / <= 30 MB | {met} |"
        )
    return "\n".join(
        [
            "## todo-api",
            "",
            "Cold init: fresh `python3.12 -I -S -B` processes importing the handler module from the unzipped",
            f"Lambda zip, {len(s['api'])} interleaved runs each. Warm: Mangum with API Gateway v2 events,",
            f"{len(warm['list'])} requests per case; the database is an in-memory fake (dict look-ups), so the",
            "figures are the API layer's own cost (routing, validation, JWT, idempotency header parsing, logging).",
            "",
            "| what | median | spread | ratio vs baseline | goal | met? |",
            "| --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            *GAPS,
            "",
            machine(),
            "",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/RESULTS.md")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="todo-api-bench-") as tmp:
        cold = cold_init(args.runs, Path(tmp))
    warm = warm_overhead(args.requests)
    text = render(cold, warm)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
