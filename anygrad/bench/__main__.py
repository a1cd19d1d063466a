"""`python -m anygrad.bench`; see `anygrad.bench.cli` for the options."""
import sys

from .cli import main

sys.exit(main())
