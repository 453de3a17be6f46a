"""Report model, JSON writer (the source of truth) and the HTML renderer built from it alone."""
