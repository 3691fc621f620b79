"""Entry point of the openclaw-edge policy pack: registers the policies, nothing else."""

from typing import TYPE_CHECKING

from pulumi_policy import PolicyPack

if TYPE_CHECKING:
    from policy.openclaw_policies import build_policies
else:  # the pack runs as a script from this folder, so its modules are top-level there
    from openclaw_policies import build_policies

PolicyPack(name="openclaw-edge", policies=build_policies())
