"""``python -m drill``: replay an election end to end (see ``drill.run``)."""

from drill.run import main

raise SystemExit(main())
