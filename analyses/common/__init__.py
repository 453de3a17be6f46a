"""Signal processing and declarations that only analyses use: resampling to an analysis rate,
loudness, runs and steps in a track, unit conversions, and the comparable-measure kinds."""
