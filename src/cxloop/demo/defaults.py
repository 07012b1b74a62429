"""What ``cxloop demo`` loads when not told otherwise: the shop's size, seed and length of
history, and the workspace it goes into.

Kept out of the simulation (NumPy) and the loader (every domain): the command line shows
these values in its help, and building it should load neither.
"""

from __future__ import annotations

WORKSPACE = "demo"
DEFAULT_CUSTOMERS = 20_000
DEFAULT_DAYS = 365
DEFAULT_SEED = 7
