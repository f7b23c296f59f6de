"""A provider whose module raises when it is imported."""

raise RuntimeError("broken on purpose at import")
