"""The access tests share their history generator and reference model (histories.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
