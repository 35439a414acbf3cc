"""Tests of creditbank.ledger (a package so module names never clash with other test folders)."""
