"""`python -m tests.bench`: see tests/bench/README.md."""

import sys

from tests.bench.run import main

sys.exit(main())
