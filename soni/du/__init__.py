"""soni: du."""
