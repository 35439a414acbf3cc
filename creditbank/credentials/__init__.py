"""W3C Verifiable Credentials for creditbank: ``eddsa-jcs-2022``, did:key / did:web, status lists.

The package sits beside :mod:`creditbank.accounts`: it reads the accounts (balances, transcripts)
and the ledger (canonical bytes, keys) and turns them into a signed W3C VC 2.0 document, shaped as
a 1EdTech CLR 2.0 ``ClrCredential`` whose achievements are Open Badges 3.0 subjects. ``api`` and
``cli`` import it. ``docs/credentials.md`` describes the format.
"""
