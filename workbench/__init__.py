"""Audio evidence workbench: measure and show, for human review, how consistent a recording is."""

__version__ = "0.1.0"
