"""The banking example domain bundled with soni (the default of `soni chat`)."""

from pathlib import Path

DOMAIN = Path(__file__).with_name("domain.yaml")
