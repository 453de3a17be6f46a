"""Generated material with known content: speech-like recordings, artifacts planted at known places, encodings. The demo clip, the generated validation set and the tests are made of it."""
