"""Handler factories that return something other than a list of handlers."""
