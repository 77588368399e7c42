"""Repairs: rules plan edits on the nodes they report (`plan`), the fixer builds the usual
rewrites (`codemods`), and `engine` chooses, applies, verifies and writes them."""
