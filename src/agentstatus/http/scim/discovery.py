"""What the SCIM service publishes about itself: ServiceProviderConfig, ResourceTypes and
Schemas (RFC 7644 section 4), built from scim2-models' own definitions.

The User schema published is the core one cut down to what an agent has (``userName``,
``displayName``, ``active``): a client then sends and expects nothing else. ``userName`` is
published as immutable, since it is the user id the CRM sends and cannot change, and
``active`` as required, since an agent always is active or not."""

from __future__ import annotations

from typing import Any

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    ETag,
    Filter,
    Meta,
    Mutability,
    Patch,
    Required,
    ResourceType,
    Schema,
    ServiceProviderConfig,
    Sort,
    User,
)

SUPPORTED = ("userName", "displayName", "active")
MAX_RESULTS = 200
"""The most Users one list answer holds (``count`` above it is lowered to it)."""


def user_schema(base: str) -> Schema:
    schema = User.to_schema()
    attributes = [a for a in schema.attributes or [] if a.name in SUPPORTED]
    for attribute in attributes:
        if attribute.name == "userName":
            attribute.mutability = Mutability.immutable
        if attribute.name == "active":
            # An agent is always active or not: ``active`` cannot be removed (a User
            # created without it is active).
            attribute.required = Required.true
    schema.attributes = attributes
    schema.meta = Meta(resource_type="Schema", location=f"{base}/Schemas/{schema.id}")
    return schema


def user_type(base: str) -> ResourceType:
    found = ResourceType.from_resource(User)
    found.description = "An agent of the organisation the token is scoped to."
    found.meta = Meta(resource_type="ResourceType", location=f"{base}/ResourceTypes/User")
    return found


def service_provider_config(base: str) -> ServiceProviderConfig:
    return ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[
            AuthenticationScheme(
                type=AuthenticationScheme.Type.oauthbearertoken,
                name="Bearer token",
                description="An admin token scoped to one organisation "
                "(agentstatus token create --role admin --org ORG).",
                primary=True,
            )
        ],
        meta=Meta(resource_type="ServiceProviderConfig", location=f"{base}/ServiceProviderConfig"),
    )


def dump(resource: Any) -> dict[str, Any]:
    """A discovery resource as a query answers it."""
    found: dict[str, Any] = resource.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    return found
