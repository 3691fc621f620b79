#!/usr/bin/env python3
"""Entry point the Worker starts: `python3 /opt/openclaw-edge/boot.py run` (openclaw_boot.cli)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from openclaw_boot.cli import main

if __name__ == "__main__":
    sys.exit(main())
