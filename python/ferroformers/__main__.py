"""``python -m ferroformers ...`` runs the command line (see ``ferroformers.cli``)."""

import sys

from ferroformers.cli import main

sys.exit(main())
