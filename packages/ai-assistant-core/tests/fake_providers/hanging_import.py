"""A provider whose import never returns."""

import time

time.sleep(600)
