"""The one error tree of creditbank.

Every failure the domain can report is a subclass of :class:`CreditbankError`. The tree is split by
*whose fault it is*, because that is what a caller needs to decide what to do next: fix the input,
look for tampering, retry, or call an operator. ``api/errors.py`` maps these classes to HTTP status
codes and RFC 9457 problem ``type`` URIs in one table; the CLI maps them to exit codes. Domain code
never raises ``HTTPException``.

This module is a leaf: it imports nothing of the project, so every layer (including the reusable
``ledger``) may import it without creating a cycle.

    CreditbankError
    ├── VerificationError            a proof, signature, checkpoint or stored byte does not check out
    │   ├── ProofError               RFC 9162 inclusion / consistency proof rejected
    │   ├── SignatureError           Ed25519 signature (entry or note) rejected
    │   ├── CheckpointError          checkpoint / signed note malformed or not signed by a trusted key
    │   └── TamperError              stored log content disagrees with itself (names the first bad index)
    ├── InputError                   the caller sent something malformed (fix the input)
    │   ├── EncodingError            not representable as RFC 8785 canonical JSON (floats, bad types)
    │   ├── EntryFormatError         an entry or leaf object does not have the required shape
    │   ├── MapLoadError             qualification-map / programme CSV rejected (file, line, column)
    │   ├── MappingFormatError       a mapping's JSON form (a ledger entry body) is malformed
    │   ├── CatalogError             programmes and mappings built in memory contradict each other
    │   ├── HoldingsError            a holdings file for the planner is malformed
    │   └── KeyFormatError           a key, verifier key or key file cannot be parsed or decrypted
    ├── NotFoundError                the named thing does not exist (or is not visible to the caller)
    ├── ConflictError                valid input that contradicts the current state
    │   ├── DuplicateNonceError      the actor already used this nonce
    │   └── RuleViolation            a domain rule refuses the entry (see accounts)
    ├── AuthError                    who is asking
    │   ├── AuthenticationError      no or unknown credentials
    │   └── PermissionDenied         known caller, not allowed to do this
    └── StorageError                 the database is not in a usable state (operator's problem)
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "CohortFileError",
    "CohortProblem",
    "AuthenticationError",
    "CatalogError",
    "CheckpointError",
    "ConflictError",
    "CreditbankError",
    "DuplicateNonceError",
    "EncodingError",
    "EntryFormatError",
    "HoldingsError",
    "InputError",
    "KeyFormatError",
    "MapLoadError",
    "MapProblem",
    "MappingFormatError",
    "NotFoundError",
    "PermissionDenied",
    "ProofError",
    "RuleViolation",
    "Sentence",
    "SignatureError",
    "StorageError",
    "TamperError",
    "VerificationError",
]

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class CreditbankError(Exception):
    """Root of every error creditbank raises on purpose."""

    #: In an all-or-nothing batch, the 0-based position of the item this error refused (the
    #: batch appended nothing); ``None`` outside batches. The API answers it as ``"item"``.
    item: int | None = None

    def in_item(self, item: int) -> CreditbankError:
        """This error, marked as the refusal of batch item ``item``."""
        self.item = item
        return self


# --- verification -----------------------------------------------------------------------------


class VerificationError(CreditbankError):
    """Something that should be cryptographically or structurally consistent is not."""


class ProofError(VerificationError):
    """An RFC 9162 inclusion or consistency proof does not verify."""


class SignatureError(VerificationError):
    """An Ed25519 signature does not verify under the key it claims."""


class CheckpointError(VerificationError):
    """A checkpoint (C2SP signed note) is malformed or carries no valid trusted signature."""


class TamperError(VerificationError):
    """The stored log disagrees with itself; ``index`` names the first bad leaf when known."""

    def __init__(self, message: str, *, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


# --- bad input --------------------------------------------------------------------------------


class InputError(CreditbankError):
    """The caller sent something malformed; fixing the input fixes the error."""


class EncodingError(InputError):
    """A value cannot be encoded as RFC 8785 canonical JSON (for example a float)."""


class EntryFormatError(InputError):
    """An entry, signed entry or leaf object does not have the shape the log requires."""


@dataclass(frozen=True)
class MapProblem:
    """One problem found in a CSV file, located precisely enough to fix it."""

    file: str
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        if self.column:
            where += f": column {self.column}"
        return f"{where}: {self.message}"


class MapLoadError(InputError):
    """A qualification map or programme file was rejected; nothing of it was loaded."""

    def __init__(self, problems: list[MapProblem]) -> None:
        self.problems = list(problems)
        head = "; ".join(str(p) for p in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"{len(self.problems)} problem(s): {head}{more}")


class MappingFormatError(InputError):
    """A mapping's JSON form (as stored in a ``mapping.registered`` entry) is malformed."""


class CatalogError(InputError):
    """Programmes and mappings built in memory contradict each other; ``issues`` lists each."""

    def __init__(self, issues: list[str]) -> None:
        self.issues = list(issues)
        head = "; ".join(self.issues[:5])
        more = f" (and {len(self.issues) - 5} more)" if len(self.issues) > 5 else ""
        super().__init__(f"{len(self.issues)} catalogue problem(s): {head}{more}")


class HoldingsError(InputError):
    """A planner holdings document is malformed."""


class KeyFormatError(InputError):
    """A key file, public key or signed-note verifier key cannot be parsed or decrypted."""


# --- state ------------------------------------------------------------------------------------


class NotFoundError(CreditbankError):
    """The named object does not exist, or is not visible to the caller."""


class ConflictError(CreditbankError):
    """Well-formed input that contradicts the current state of the ledger."""


class DuplicateNonceError(ConflictError):
    """The actor already used this nonce; a retried request must not append twice."""


class Sentence(Protocol):
    """A message a page may translate (``creditbank.mapping.wording.Wording``)."""

    def render(self, translate: Callable[[str], str] = ...) -> str: ...


class RuleViolation(ConflictError):
    """A domain rule refuses the entry. ``code`` is a stable machine-readable reason.

    ``sentence`` (optional) is the same message as a message id and parameters, so the web pages
    can show it in the page's language; the message itself stays English for the API and the CLI.
    """

    code: str = "rule-violation"
    sentence: Sentence | None = None

    def __init__(
        self, message: str, *, code: str | None = None, sentence: Sentence | None = None
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.sentence = sentence


# --- who is asking ----------------------------------------------------------------------------


class AuthError(CreditbankError):
    """Authentication or authorisation failed."""


class AuthenticationError(AuthError):
    """No credentials, or credentials that match nobody."""


class PermissionDenied(AuthError):
    """A known caller asked for something its role or ownership does not allow."""


# --- operator ---------------------------------------------------------------------------------


class StorageError(CreditbankError):
    """The database is missing, not initialised, or in a state the code cannot work with."""


# --- witnesses and transcripts --------------------------------------------------------------


class WitnessRefusal(CreditbankError):
    """A witness refused a checkpoint (C2SP tlog-witness). ``status`` is the HTTP status the spec
    prescribes; ``latest_size`` is the witness's size on record for a 409."""

    def __init__(self, message: str, *, status: int, latest_size: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.latest_size = latest_size


# --- cohort imports -------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortProblem:
    """One bad cell or row of a cohort file: file, row (1 = the header), column, in zh and en."""

    file: str
    row: int
    column: str | None
    zh: str
    en: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.row}" + (f":{self.column}" if self.column else "")
        return f"{where}: {self.zh} / {self.en}"


class CohortFileError(InputError):
    """A cohort file (learners, certificates, credits) has bad rows; nothing was appended."""

    def __init__(self, problems: list[CohortProblem], *, appended: int = 0) -> None:
        self.problems = problems
        #: rows of earlier batches already in the log (re-running the import skips them)
        self.appended = appended
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        done = (
            f"{appended} rows of earlier batches were appended; fix the row and re-run to resume"
            if appended
            else "nothing appended"
        )
        super().__init__(f"{len(problems)} problem(s) in the file; {done}: {shown}{more}")


# --- credentials (W3C VC 2.0, eddsa-jcs-2022, did:key, Bitstring Status List) --------------
#
#   VerificationError
#   ├── CredentialProofError     an eddsa-jcs-2022 Data Integrity proof rejected
#   ├── DidResolutionError       a did:key / verification method does not resolve to a key
#   ├── CredentialRevokedError   the credential's status list bit is set (or its list fails)
#   └── EvidenceError            a credential's embedded transcript disagrees with it
#   InputError
#   └── CredentialFormatError    not shaped like a credential or a status list credential

__all__ += [
    "CredentialFormatError",
    "CredentialProofError",
    "CredentialRevokedError",
    "DidResolutionError",
    "EvidenceError",
]


class CredentialProofError(VerificationError):
    """A Data Integrity proof (``eddsa-jcs-2022``) is malformed or its signature does not verify."""


class DidResolutionError(VerificationError):
    """A ``did:key`` or verification method cannot be resolved to an Ed25519 public key."""


class CredentialRevokedError(VerificationError):
    """The credential's Bitstring Status List bit is set (revoked), or the list does not check."""


class EvidenceError(VerificationError):
    """A credential's evidence (the embedded transcript) disagrees with the credential."""


class CredentialFormatError(InputError):
    """A document is not shaped like the credential or status list it claims to be."""
