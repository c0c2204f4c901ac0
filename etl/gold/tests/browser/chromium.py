"""Open a page in a real headless Chromium and report what a person would see.

The page is copied with a small script first in ``<head>`` that records every
uncaught error, unhandled rejection and ``console.error`` call in an
attribute of ``<html>``; Chromium runs the page's scripts (``--dump-dom``
after a virtual-time budget) and prints the resulting DOM, from which the
test reads the recorded errors and the charts' rendered tick labels.
"""

from __future__ import annotations

import html.parser
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import List, Optional

import pytest

CATCH_ERRORS = """<script>
(function () {
  var seen = [];
  function note(text) {
    seen.push(String(text));
    document.documentElement.setAttribute("data-console-errors", JSON.stringify(seen));
  }
  window.addEventListener("error", function (e) { note(e.message || e); });
  window.addEventListener("unhandledrejection", function (e) { note(e.reason); });
  var original = console.error;
  console.error = function () {
    note(Array.prototype.join.call(arguments, " "));
    original.apply(console, arguments);
  };
})();
</script>"""


def chromium_or_skip() -> str:
    """The Chromium binary; outside CI a missing one skips, under CI it fails."""
    # Debian's chromium here and in .ci/run; GitHub's Ubuntu runners ship Chrome.
    found = (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or shutil.which("google-chrome")
    )
    if found:
        return found
    reason = "chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason + " - required under CI")
    pytest.skip(reason)


@dataclass
class Rendered:
    dom: str
    console_errors: List[str]
    x_ticks: List[List[str]]  # per chart, the x axis tick labels drawn
    bar_widths: List[List[float]]  # per chart, the drawn width of every bar (px)


class _Ticks(html.parser.HTMLParser):
    """Collects the text of ``g.xtick`` labels, per ``svg.main-svg`` chart."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: List[List[str]] = []
        self.bars: List[List[float]] = []
        self._in_bar = False
        self.errors: Optional[str] = None
        self._in_xtick = 0
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html" and attributes.get("data-console-errors"):
            self.errors = attributes["data-console-errors"]
        if tag == "div" and "plotly-graph-div" in (attributes.get("class") or ""):
            self.charts.append([])
            self.bars.append([])
        classes = (attributes.get("class") or "").split()
        if tag == "g" and "point" in classes:
            self._in_bar = True
        elif tag == "path" and self._in_bar and self.bars:
            self._in_bar = False
            width = _path_width(attributes.get("d") or "")
            if width is not None:
                self.bars[-1].append(width)
        if tag == "g" and "xtick" in (attributes.get("class") or "").split():
            self._in_xtick = 1
        elif tag == "text" and self._in_xtick:
            self._in_xtick = 2

    def handle_endtag(self, tag):
        if tag == "text" and self._in_xtick == 2:
            self._in_xtick = 0

    def handle_data(self, data):
        if self._in_xtick == 2 and self.charts:
            self.charts[-1].append(data)


def _path_width(d: str) -> Optional[float]:
    """The width of a bar's path ``M x0,y0 V y1 H x1 V y0 Z``."""
    match = re.match(r"M([-\d.]+),[-\d.]+V[-\d.]+H([-\d.]+)V", d)
    if not match:
        return None
    return abs(float(match.group(2)) - float(match.group(1)))


def render(path: str, budget_ms: int = 15000) -> Rendered:
    binary = chromium_or_skip()
    with open(path, encoding="utf-8") as handle:
        page = handle.read()
    page = page.replace("<head>", "<head>" + CATCH_ERRORS, 1)
    with tempfile.TemporaryDirectory(prefix="report-") as work:
        copy = os.path.join(work, "report.html")
        with open(copy, "w", encoding="utf-8") as handle:
            handle.write(page)
        done = subprocess.run(
            [
                binary,
                "--headless",
                "--no-sandbox",  # tests may run as root in a container
                "--disable-gpu",
                "--no-first-run",
                f"--user-data-dir={os.path.join(work, 'profile')}",
                "--enable-logging=stderr",
                "--v=0",
                "--window-size=1280,2000",
                f"--virtual-time-budget={budget_ms}",
                "--dump-dom",
                "file://" + copy,
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    if done.returncode != 0 or "<html" not in done.stdout:
        raise AssertionError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    parser = _Ticks()
    parser.feed(done.stdout)
    import json

    errors = json.loads(parser.errors) if parser.errors else []
    # Uncaught errors reach Chromium's log too (in case the hook itself failed).
    errors += [
        line for line in done.stderr.splitlines() if "CONSOLE" in line and "Uncaught" in line
    ]
    return Rendered(done.stdout, errors, parser.charts, parser.bars)
