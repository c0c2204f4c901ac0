"""CrossGuard entry point: every rule of ``todo_platform.policies`` as one stack policy each."""

from pulumi_policy import EnforcementLevel, PolicyPack, StackValidationPolicy

from todo_platform.crossguard import stack_validator
from todo_platform.policies import POLICIES

PolicyPack(
    name="todo-platform",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        StackValidationPolicy(
            name=name,
            description=(rule.__doc__ or name).strip().splitlines()[0],
            validate=stack_validator(rule),
        )
        for name, rule in POLICIES.items()
    ],
)
