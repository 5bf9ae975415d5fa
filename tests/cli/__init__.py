"""Tests of the ``agentstatus`` command line."""
