"""`python -m ops.phase_docs`: see the package docstring."""

from ops.phase_docs.cli import main

raise SystemExit(main())
