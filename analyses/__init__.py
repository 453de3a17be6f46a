"""Built-in analyses: one module each; every one is a pure function of a Clip (see workbench.core.analysis)."""
