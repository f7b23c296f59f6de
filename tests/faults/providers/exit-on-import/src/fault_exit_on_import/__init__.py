"""A provider whose module ends the program when it is imported, as some
libraries do when a requirement is missing."""

import sys

sys.exit(3)
