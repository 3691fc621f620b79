"""`python -m ops.migrate_plan`: see the package docstring."""

import sys

from ops.migrate_plan.cli import main

sys.exit(main())
