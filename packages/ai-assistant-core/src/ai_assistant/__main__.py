"""``python -m ai_assistant`` runs the command line."""

import sys

from ai_assistant.cli import main

sys.exit(main())
