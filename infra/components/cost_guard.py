"""CostGuard: carries the cost estimate (infra/cost.py) into the deployment so the policy pack can
stop an over-budget `pulumi up`."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.cost import CostBreakdown, CostInputs, CostModelError, estimate
from infra.outputs import BUDGET_USD, COST_GUARD_TYPE


@dataclass(frozen=True)
class CostGuardArgs:
    """Inputs of CostGuard."""

    inputs: CostInputs
    """What the estimate is computed from."""
    budget_usd: float = BUDGET_USD
    """Monthly budget (config `monthlyBudgetUsd`); default the plan's stop criterion."""


class CostGuard(pulumi.ComponentResource):
    """Carries the cost estimate into the deployment so the policy pack can stop an over-budget up.

    It declares no cloud resource. Its props (`monthlyUsd`, `budgetUsd`, `instanceType`,
    `sleepAfter`, `breakdown`) are plain values known at preview, which the policy
    `cost-within-budget` reads.
    """

    cost: CostBreakdown
    """The computed estimate (plain values)."""
    monthly_usd: pulumi.Output[float]
    budget_usd: pulumi.Output[float]
    estimate: pulumi.Output[dict[str, object]]

    TYPE = COST_GUARD_TYPE

    def __init__(
        self, name: str, args: CostGuardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if args.budget_usd <= 0:
            raise CostModelError(
                f"openclaw-edge:monthlyBudgetUsd must be a positive number, got {args.budget_usd!r}"
            )
        cost = estimate(args.inputs)
        output = cost.to_output()
        # The engine copies each prop onto the instance as an Output attribute of the same name,
        # so the Python attributes below use other names.
        props: dict[str, object] = {
            "monthlyUsd": round(cost.monthly_usd, 2),
            "budgetUsd": args.budget_usd,
            "instanceType": args.inputs.instance_type,
            "sleepAfter": args.inputs.sleep_after.text,
            "worstCaseMonthlyUsd": round(cost.worst_case_monthly_usd, 2),
            "breakdown": output,
        }
        super().__init__(self.TYPE, name, props, opts)
        self.cost = cost
        self.monthly_usd = pulumi.Output.from_input(round(cost.monthly_usd, 2))
        self.budget_usd = pulumi.Output.from_input(args.budget_usd)
        self.estimate = pulumi.Output.from_input(output)
        self.register_outputs(
            {"monthlyUsd": self.monthly_usd, "budgetUsd": self.budget_usd, "estimate": output}
        )
