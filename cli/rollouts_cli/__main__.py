"""`python -m rollouts_cli`: the `rollouts` command."""

import sys

from rollouts_cli.cli import main

sys.exit(main())
