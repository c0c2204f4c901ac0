"""Silver and gold on Glue Spark: the same transforms, a distributed engine."""
