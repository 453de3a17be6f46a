"""Measured error rates: planted artifacts and clean recordings, generated (:mod:`.generated`)
and real third-party recordings (:mod:`.real`)."""
