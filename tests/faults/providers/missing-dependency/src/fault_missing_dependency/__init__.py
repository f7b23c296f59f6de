"""A provider whose dependency is not installed."""

from __future__ import annotations

import fault_absent_dependency  # noqa: F401 - never installed, on purpose
