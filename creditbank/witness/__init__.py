"""A C2SP tlog-witness (``creditbank witness``) and the log side that asks witnesses to cosign."""
