"""Runs ``todo_platform.policies`` inside a CrossGuard policy pack (``pulumi-policy``).

CrossGuard hands a stack policy every resource of the preview
(``resource_type``, ``name``, ``props``, ``urn``, and ``opts`` with the
provider and ``protect``); the rules take :class:`ResourceRecord` s. This
module only translates, so the pack and the mocks tests run the very same
rules. It does not import ``pulumi_policy`` (the pack does), which keeps it
testable without it.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Sequence

from todo_platform.policies import Policy, ResourceRecord


def _provider_reference(resource: Any) -> str:
    provider = getattr(resource, "provider", None)
    if provider is None:
        return ""
    return f"{getattr(provider, 'urn', '')}::{getattr(provider, 'name', '')}"


def _default_tags(resource: Any) -> Dict[str, Any]:
    """The tags the resource's provider adds (``defaultTags``), as CrossGuard shows them."""
    provider = getattr(resource, "provider", None)
    default_tags = (getattr(provider, "props", None) or {}).get("defaultTags") or {}
    if isinstance(default_tags, str):
        default_tags = json.loads(default_tags)
    return dict(default_tags.get("tags") or {})


def to_record(resource: Any) -> ResourceRecord:
    """A CrossGuard ``PolicyResource`` as the rules see resources.

    The rules look for tags on the resource or on its provider; CrossGuard
    hands over the provider separately, so its default tags (and the
    provider's computed ``tagsAll``) are folded into the resource's ``tags``.
    """
    opts = getattr(resource, "opts", None)
    inputs = dict(resource.props or {})
    tags = {
        **_default_tags(resource),
        **(inputs.get("tagsAll") or {}),
        **(inputs.get("tags") or {}),
    }
    if tags:
        inputs["tags"] = tags
    # Region-aware rules read a resource's region; without its own (pulumi-aws v7
    # ``region``) it lives in its provider's.
    provider_props = getattr(getattr(resource, "provider", None), "props", None) or {}
    if not inputs.get("region") and provider_props.get("region"):
        inputs["region"] = provider_props["region"]
    return ResourceRecord(
        type=resource.resource_type,
        name=resource.name,
        inputs=inputs,
        provider=_provider_reference(resource),
        urn=getattr(resource, "urn", ""),
        protect=bool(getattr(opts, "protect", False)),
    )


def stack_validator(rule: Policy) -> Callable[[Any, Callable[..., None]], None]:
    """A ``StackValidationPolicy.validate`` function reporting ``rule``'s violations."""

    def validate(args: Any, report_violation: Callable[..., None]) -> None:
        records: List[ResourceRecord] = [to_record(r) for r in args.resources]
        urns = {r.ref: r.urn for r in records}
        for violation in rule(records):
            report_violation(violation.message, urns.get(violation.resource) or None)

    return validate


def violations(rule: Policy, resources: Sequence[Any]) -> List[str]:
    """What ``rule`` reports for these CrossGuard resources (used by the tests)."""
    reported: List[str] = []
    stack_validator(rule)(
        type("Args", (), {"resources": list(resources)})(),
        lambda message, urn=None: reported.append(message),
    )
    return reported
