"""Helpers for the stack's tests (waiting on facts with deadlines, node fixtures)."""
