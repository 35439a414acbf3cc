"""Learners' accounts: typed entries, the rules that guard appends, and projections of the log.

The single write path is :meth:`creditbank.accounts.bank.CreditBank.submit`; everything read here is
derived from the log and can be rebuilt from it (``creditbank rebuild``).
"""
