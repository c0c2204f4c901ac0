"""A monthly AWS Budget per stage, notifying the alert topic (runbook: 80 % and 100 %)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from todo_core.naming import ResourceNames
from todo_platform.blocks import child
from todo_platform.config import Settings

#: The cost-allocation tag a stage's budget filters on (activated by the
#: bootstrap program, once per account).
STAGE_TAG = "Environment"


def monthly_budget(
    parent: pulumi.Resource, settings: Settings, names: ResourceNames, topic: aws.sns.Topic
) -> aws.budgets.Budget:
    """Actual monthly cost of this stage's resources (its ``Environment`` tag).

    Budgets filter on activated cost-allocation tags: until ``Environment`` is
    active (bootstrap program) the budget counts nothing for this stage.
    """
    budget = settings.budget
    return aws.budgets.Budget(
        "monthly-budget",
        name=names.budget,
        budget_type="COST",
        time_unit="MONTHLY",
        limit_amount=f"{budget.monthly_limit_usd:.2f}",
        limit_unit="USD",
        cost_filters=[
            aws.budgets.BudgetCostFilterArgs(
                name="TagKeyValue", values=[f"user:{STAGE_TAG}${settings.stage}"]
            )
        ],
        notifications=[
            aws.budgets.BudgetNotificationArgs(
                comparison_operator="GREATER_THAN",
                notification_type="ACTUAL",
                threshold=percent,
                threshold_type="PERCENTAGE",
                subscriber_sns_topic_arns=[topic.arn],
            )
            for percent in budget.alert_thresholds_percent
        ],
        opts=child(parent),
    )
