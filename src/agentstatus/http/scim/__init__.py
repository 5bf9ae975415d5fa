"""SCIM 2.0 provisioning of agents (RFC 7643/7644) at ``/scim/v2/``.

scim2-models parses, validates and serialises every resource and message. scim2-server is
not used: it is a WSGI application over its own backend interface, whose writes are plain
resource replacements; our writes must go through the service's change path (deactivating
logs the agent out, asynchronously, with the token as actor), so the endpoints are served
here, on the same async stack as the rest of the service."""
