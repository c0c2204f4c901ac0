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
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
