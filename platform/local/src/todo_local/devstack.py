"""The whole local system in one process tree: emulator, API, stream runner.

``todo-local up`` (and ``nox -s dev``) run a :class:`DevStack` until Ctrl-C;
the demo and end-to-end tests use it as a context manager.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Callable, List, Optional

from todo_local.emulator import Emulator
from todo_local.stack import LocalStack, provision

OUTPUTS_PATH = os.path.join(".local", "outputs.json")
#: The KPI aggregator's mapping window (its events then name their shard).
KPI_TUMBLING_WINDOW_SECONDS = 60


class DevStack:
    """Starts the pieces in dependency order and stops them in reverse."""

    def __init__(
        self,
        port: Optional[int] = None,
        api_port: Optional[int] = None,
        with_api: bool = True,
        with_stream_runner: bool = True,
        outputs_path: Optional[str] = OUTPUTS_PATH,
        log_dir: str = ".local",
        cdc_batching_window: float = 0.0,
        api_workers: int = 1,
    ) -> None:
        self.port = port
        self.api_port = api_port
        self.with_api = with_api
        self.with_stream_runner = with_stream_runner
        self.outputs_path = outputs_path
        self.log_dir = log_dir
        #: The CDC mapping's MaximumBatchingWindowInSeconds (0: invoke at once).
        self.cdc_batching_window = cdc_batching_window
        self.api_workers = api_workers
        self.emulator: Optional[Emulator] = None
        self.stack: Optional[LocalStack] = None
        self._stack_exit = contextlib.ExitStack()
        #: The API and the stream readers: stopped and restarted on another
        #: table by :meth:`move_to`, without the emulator.
        self._compute_exit = contextlib.ExitStack()
        self.components: List[Any] = []
        #: Components requested but not installed (see :meth:`_optional`).
        self.skipped: List[str] = []

    def start(self) -> DevStack:
        os.makedirs(self.log_dir, exist_ok=True)
        try:
            self.emulator = self._stack_exit.enter_context(
                Emulator(port=self.port, log_path=os.path.join(self.log_dir, "emulator.log"))
            )
            self.stack = provision(self.emulator.endpoint_url)
            self._start_compute()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_compute(self) -> None:
        assert self.stack is not None
        if self.with_api:
            self._optional("todo_local.api_process", self._start_api)
        if self.with_stream_runner:
            self._optional("todo_local.stream_runner", self._start_stream_runner)
        if self.outputs_path:
            self.stack.write_outputs(self.outputs_path)

    def stop_writes(self) -> None:
        """Stop the API (the only writer of the table); the stream readers go on."""
        for component in self.components:
            if hasattr(component, "url") and hasattr(component, "stop"):
                component.stop()

    def stop_compute(self, drain_timeout: Optional[float] = None) -> None:
        """Stop the API, then (after draining them, with ``drain_timeout``) the
        stream readers: nothing written before is left unread."""
        self.stop_writes()
        if drain_timeout is not None:
            for component in self.components:
                if hasattr(component, "drain"):
                    component.drain(timeout=drain_timeout)
        self._compute_exit.close()
        self._compute_exit = contextlib.ExitStack()
        self.components = []
        if self.stack is not None:
            self.stack.extra_outputs.pop("ApiEndpoint", None)

    def move_to(self, stack: LocalStack) -> None:
        """Run the API and the stream readers on ``stack`` from now on (a
        restored table: ``todo_local.restore.stack_on_table``), as a deploy
        pointing the stage at a new table does; the outputs follow."""
        self.stop_compute()
        self.stack = stack
        self._start_compute()

    def _optional(self, module: str, start: Callable[[], None]) -> None:
        """Start a component whose module may not exist yet in this checkout.

        Only the absence of that very module is tolerated (with a notice in
        ``skipped``); any other import error inside it still fails loudly.
        """
        try:
            start()
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            self.skipped.append(module)
            print(f"todo-local: {module} is not available; starting without it", flush=True)

    def _start_api(self) -> None:
        # Provided by the todo-api work: serves the API against the emulator and
        # forwards its JSON logs to the logs delivery stream.
        from todo_local.api_process import ApiProcess

        assert self.stack is not None
        api = self._compute_exit.enter_context(
            ApiProcess(
                self.stack, port=self.api_port, log_dir=self.log_dir, workers=self.api_workers
            )
        )
        self.stack.extra_outputs["ApiEndpoint"] = api.url
        self.components.append(api)

    def _start_stream_runner(self) -> None:
        # The event-source-mapping stand-in: the CDC function runs in this process.
        from todo_local.stream_runner import StreamRunner

        assert self.stack is not None
        runner = self._compute_exit.enter_context(
            StreamRunner.for_stack(
                self.stack,
                maximum_batching_window=self.cdc_batching_window,
                # In AWS the function's EMF lines go to CloudWatch Logs, which
                # turns them into metrics; the emulator has no such ingestion,
                # and here they would fill the console (one per batch).
                environment={"POWERTOOLS_METRICS_DISABLED": "true"},
            )
        )
        self.components.append(runner)
        self._optional("kpi_aggregator", self._start_kpi_runner)

    def _start_kpi_runner(self) -> None:
        # The stream's second consumer, the KPI counters: a second mapping of
        # the same stream, with the tumbling window that names the shard.
        import kpi_aggregator  # noqa: F401  (not installed: skipped, see _optional)
        from todo_local.emulator import REGION, client_environment
        from todo_local.stream_runner import StreamRunner

        assert self.stack is not None
        runner = self._compute_exit.enter_context(
            StreamRunner(
                self.stack.client("dynamodbstreams"),
                self.stack.stream_arn,
                "kpi_aggregator.handler.lambda_handler",
                region=REGION,
                function_name=self.stack.names.kpi_function,
                tumbling_window=KPI_TUMBLING_WINDOW_SECONDS,
                maximum_batching_window=self.cdc_batching_window,
                environment={
                    **client_environment(self.stack.endpoint_url),
                    "STAGE": self.stack.names.stage,
                    "TABLE_NAME": self.stack.names.table,
                    "POWERTOOLS_SERVICE_NAME": "todo-kpi-aggregator",
                    "POWERTOOLS_METRICS_DISABLED": "true",
                },
            )
        )
        self.components.append(runner)

    def stop(self) -> None:
        self._compute_exit.close()
        self._stack_exit.close()

    def __enter__(self) -> DevStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
