"""`python -m pydbg`: the pydbg command line (see pydbg.cli)."""

import sys

from pydbg.cli import main

sys.exit(main())
