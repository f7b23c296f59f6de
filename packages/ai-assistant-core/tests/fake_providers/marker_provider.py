"""A provider that leaves a file behind when its module is imported."""

import os
import pathlib

pathlib.Path(os.environ["IMPORT_MARKER"]).write_text("imported")
