"""Test support: real server processes and small data factories."""
