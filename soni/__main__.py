"""`python -m soni` runs the soni command line."""

from soni.cli import main

raise SystemExit(main())
