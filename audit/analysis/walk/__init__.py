"""One walk of a libcst module: a small core, the handlers of each kind of node, put together
in `walker.ModuleWalker`."""
