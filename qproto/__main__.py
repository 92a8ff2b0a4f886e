"""``python -m qproto`` runs the command line."""

import sys

from qproto.cli import main

sys.exit(main())
