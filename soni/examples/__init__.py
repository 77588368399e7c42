"""soni: examples."""
