"""The equivalence graph of qualifications and courses, and the conversion planner.

``mapping`` knows the catalogue (programmes and every version of every registered mapping), the
rules of dual-certificate conversion (双证融通), and how to find the best conversion of a worker's
holdings toward a programme. It imports nothing of the ledger: the accounts layer feeds it mappings
from ``mapping.registered`` entries and asks :func:`evaluate` before posting a conversion.
"""

from creditbank.mapping.catalog import Catalog
from creditbank.mapping.courses import Course, CourseKey, Programme, ProgrammeCaps
from creditbank.mapping.evaluation import evaluate
from creditbank.mapping.graph import (
    DEFAULT_MAX_DEPTH,
    Conversion,
    CourseSource,
    Hop,
    MappingGraph,
    PathStep,
)
from creditbank.mapping.holdings import (
    CertificateHolding,
    CreditHolding,
    Holding,
    Holdings,
    parse_holdings,
)
from creditbank.mapping.map_csv import load_catalog, load_programmes
from creditbank.mapping.mappings import (
    CERTIFICATE_MODES,
    CourseRequirement,
    Mapping,
    Mode,
    Qualification,
    QualificationRequirement,
    Source,
)
from creditbank.mapping.outcome import Plan, Proposal, Recognition, UnusedHolding
from creditbank.mapping.planner import plan
from creditbank.mapping.posted import PostedRecognition
from creditbank.mapping.rules import CapUse, Reason

__all__ = [
    "CERTIFICATE_MODES",
    "DEFAULT_MAX_DEPTH",
    "CapUse",
    "Catalog",
    "CertificateHolding",
    "Conversion",
    "Course",
    "CourseKey",
    "CourseRequirement",
    "CourseSource",
    "CreditHolding",
    "Hop",
    "Holding",
    "Holdings",
    "Mapping",
    "MappingGraph",
    "Mode",
    "PathStep",
    "Plan",
    "PostedRecognition",
    "Programme",
    "ProgrammeCaps",
    "Proposal",
    "Qualification",
    "QualificationRequirement",
    "Reason",
    "Recognition",
    "Source",
    "UnusedHolding",
    "evaluate",
    "load_catalog",
    "load_programmes",
    "parse_holdings",
    "plan",
]
