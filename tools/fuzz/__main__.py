"""python -m tools.fuzz: the long fuzz run (see tools/fuzz/__init__.py)."""

import sys

from tools.fuzz.runner import main

sys.exit(main())
