import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # the independent dense reference, tests/dense.py

import phasetrace  # noqa: E402,F401  (turns on JAX's 64-bit mode before any test builds arrays)
