"""``todo-local``: the local stack from the command line."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from typing import List, Optional

from todo_local.devstack import OUTPUTS_PATH, DevStack


def _up(args: argparse.Namespace) -> int:
    stack = DevStack(
        port=args.port,
        api_port=args.api_port,
        with_api=not args.no_api,
        with_stream_runner=not args.no_stream_runner,
        outputs_path=args.outputs,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with stack:
        print(json.dumps(stack.stack.outputs() if stack.stack else {}, indent=2))
        print(f"outputs written to {args.outputs}; Ctrl-C stops everything", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stopped.wait()
    print("local stack stopped")
    return 0


def _token(args: argparse.Namespace) -> int:
    """Create the user in the local pool if needed, sign in, print a token."""
    from todo_local.cognito import DEFAULT_PASSWORD, user_tokens
    from todo_local.stack import make_client

    try:
        with open(args.outputs, encoding="utf-8") as handle:
            outputs = json.load(handle)
    except FileNotFoundError:
        print(f"{args.outputs} not found: start the stack first (todo-local up)", file=sys.stderr)
        return 1
    cognito = make_client("cognito-idp", outputs["AwsEndpointUrl"])
    tokens = user_tokens(
        cognito, outputs["UserPoolId"], outputs["UserPoolClientId"], args.email,
        args.password or DEFAULT_PASSWORD,
    )
    print(tokens.access_token if args.access else tokens.id_token)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="todo-local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="run the local stack until Ctrl-C")
    up.add_argument(
        "--port",
        type=int,
        default=int(os.environ["TODO_LOCAL_PORT"]) if os.environ.get("TODO_LOCAL_PORT") else None,
        help="emulator port (default: $TODO_LOCAL_PORT, else a free one)",
    )
    up.add_argument("--api-port", type=int, default=None, help="API port (default: a free one)")
    up.add_argument("--no-api", action="store_true", help="do not serve the API")
    up.add_argument("--no-stream-runner", action="store_true", help="do not run the CDC runner")
    up.add_argument("--outputs", default=OUTPUTS_PATH, help="where to write the stack outputs")
    up.set_defaults(func=_up)
    token = commands.add_parser(
        "token", help="create a user in the local Cognito pool and print an ID token"
    )
    token.add_argument("email", help="the user's e-mail (created on first use)")
    token.add_argument("--password", default=None, help="password (default: the runbook's)")
    token.add_argument("--access", action="store_true", help="print the access token instead")
    token.add_argument("--outputs", default=OUTPUTS_PATH, help="the running stack's outputs file")
    token.set_defaults(func=_token)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
