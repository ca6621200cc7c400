"""``python -m tsgres`` is the ``tsgres`` command."""

import sys

from tsgres.cli import main

sys.exit(main())
