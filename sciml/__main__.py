"""``python -m sciml`` (also ``torchrun -m sciml fit RECIPE``)."""

import sys

from sciml.cli import main

sys.exit(main())
