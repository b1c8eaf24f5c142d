"""`python -m entries.cli ...`: the same command line as the `entries` script."""

import sys

from entries.cli import main

if __name__ == "__main__":  # not when a worker process re-imports the main module (spawn, forkserver)
    sys.exit(main())
