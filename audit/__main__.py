"""`python -m audit` runs the soni-audit command line."""

from audit.cli import main

raise SystemExit(main())
