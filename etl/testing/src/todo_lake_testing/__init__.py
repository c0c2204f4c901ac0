"""Test and benchmark support for the lake packages; not part of any Glue artifact."""
