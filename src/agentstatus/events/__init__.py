"""Events: applied changes as a stream (Server-Sent Events) and as webhooks."""
