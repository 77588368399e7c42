"""Installed libraries the checked code reaches (`check --dependencies`): the environment
read, which distribution owns an imported module, the library modules a project reaches
(found lazily, name by name) and their summaries, cached per distribution version."""
