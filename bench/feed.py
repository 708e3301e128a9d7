"""Benchmark: the result-feed proxy against nginx with wrk (``feedproxy bench``; see feedproxy/bench.py).

.venv/bin/python bench/feed.py [--duration 10] [--rounds 1] [--workers N]
                               [--sizes 310B,2KB,150KB] [--cases plain,gzip,304]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedproxy.bench import main

if __name__ == "__main__":
    raise SystemExit(main())
