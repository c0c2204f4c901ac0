"""Insights for people: named queries and the HTML report."""
