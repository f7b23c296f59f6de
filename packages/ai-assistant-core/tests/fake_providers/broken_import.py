"""A provider whose module raises when imported."""

raise RuntimeError("broken on purpose at import")
