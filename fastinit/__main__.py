"""``python -m fastinit`` and the ``fastinit`` console script."""
import sys

from fastinit.cli import main

if __name__ == "__main__":
    sys.exit(main())
