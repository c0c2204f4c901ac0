"""DynamoDB Streams -> Firehose: the change-data-capture Lambda of Todo API with Insights."""

__version__ = "0.1.0"
