"""The ground floor: what every analysis, renderer and the spine stand on. It imports nothing above it."""
