"""``python -m tests.cluster up|down|build`` (from the repository root)."""

import sys

from .controlplane import main

sys.exit(main())
