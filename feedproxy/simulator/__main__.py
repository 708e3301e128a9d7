"""``python -m feedproxy.simulator``: the same as ``feedproxy simulate``."""

import sys

from feedproxy.simulator.cli import main

raise SystemExit(main(sys.argv[1:]))
