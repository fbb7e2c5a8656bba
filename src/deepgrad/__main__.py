"""``python -m deepgrad``: the ``deepgrad`` command (see ``deepgrad.cli``)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
