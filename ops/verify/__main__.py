"""`python -m ops.verify`: see the package docstring."""

from ops.verify.cli import main

raise SystemExit(main())
