"""What must exist in an AWS account before the first `pulumi up` of a stage."""
