"""Metadata hooks that misbehave."""
