"""Todo API with Insights: shared domain library."""

__version__ = "0.1.0"
