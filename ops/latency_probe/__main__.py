"""`python -m ops.latency_probe`: see the package docstring."""

from ops.latency_probe.cli import main

raise SystemExit(main())
