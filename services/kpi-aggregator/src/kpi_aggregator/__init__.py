"""The KPI aggregator: the table stream's second consumer, keeping the KPI counters."""
