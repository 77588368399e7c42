"""The engine: drives the per-file pass, the project pass and the fix loop over a workspace."""
