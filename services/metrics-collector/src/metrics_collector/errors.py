"""Why a run failed. Each one ends the invocation with an error (Lambda ``Errors``)."""

from __future__ import annotations


class CollectorError(RuntimeError):
    """Base class: the run published nothing (or not everything) and must be looked at."""


class KpiSourceUnavailable(CollectorError):
    """The counters could not be read (table missing, throttled, endpoint down...).

    Nothing is published: a gap in the graphs is honest, zeros would not be.
    """


class InconsistentCounters(CollectorError):
    """The counters were read but break an invariant (negative, completed > total).

    That can only come from a bug or a manual edit; publishing would hide it.
    """


class PublishFailed(CollectorError):
    """CloudWatch refused or did not answer the PutMetricData call."""
