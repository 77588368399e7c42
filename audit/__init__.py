"""soni-audit: a static and run-time audit suite for async Python."""

__version__ = "0.1.0"
