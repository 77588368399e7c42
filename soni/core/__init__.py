"""soni: core."""
