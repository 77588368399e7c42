"""Static analysis of one module: parse, walk, resolve, locate."""
