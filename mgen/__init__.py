"""mgen: generate symbolic music with recurrent networks."""

import os

# Two OpenMP threads spin-waiting on a busy 2-core machine lose ~3x (docs/performance.md); passive
# waiting degrades gracefully. Set here so library users get it too, before torch starts OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
