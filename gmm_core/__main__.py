"""``python -m gmm_core``: see :mod:`gmm_core.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
