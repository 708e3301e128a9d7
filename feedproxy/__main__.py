"""``python -m feedproxy``: the same as the ``feedproxy`` console script."""

from feedproxy.cli import main

raise SystemExit(main())
