"""Entry point of the openclaw-edge policy pack: registers the policies, nothing else."""

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pulumi_policy import PolicyPack

# The pack reads the program's type tokens and budget from infra/outputs.py (no pulumi import).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

if TYPE_CHECKING:
    from policy.openclaw_policies import build_policies
else:  # the pack runs as a script from this folder, so its modules are top-level there
    from openclaw_policies import build_policies

PolicyPack(name="openclaw-edge", policies=build_policies())
