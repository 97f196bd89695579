"""`python -m retrain_assets`."""

import sys

from retrain_assets.cli import main

sys.exit(main())
