"""The native JSON API under ``/api/v1``, and the operational endpoints."""
