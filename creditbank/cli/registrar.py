"""``creditbank register-learner | credit record | convert plan|post|reverse``: a registrar's work."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import typer

from creditbank.cli.common import new_app
from creditbank.cli.output import print_json, print_plan, print_receipt
from creditbank.cli.remote import (
    DEFAULT_URL,
    REASON_HELP,
    ActorOption,
    DateOption,
    JsonOption,
    KeyOption,
    TokenOption,
    UrlOption,
    client,
    parse_day,
    writer,
)
from creditbank.client import new_nonce
from creditbank.errors import InputError

__all__ = ["app"]

app = new_app(help="Registrars: learners, earned credits, conversions.")
credit_app = new_app(help="Registrar: record earned credits.")
convert_app = new_app(help="Registrar: plan, post and reverse conversions.")
app.add_typer(credit_app, name="credit")
app.add_typer(convert_app, name="convert")


@app.command("register-learner")
def register_learner_command(
    name: Annotated[str, typer.Option("--name", help="The learner's name (kept off the log).")],
    id_number: Annotated[str, typer.Option("--id-number", help="ID number (kept off the log).")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    key: KeyOption = None,
    actor: ActorOption = None,
) -> None:
    """Register a learner: a random id and a salted commitment go on the log."""
    with writer(url, token, key, actor) as api:
        learner_id, receipt = api.register_learner(name=name, id_number=id_number)
    typer.echo(f"learner_id: {learner_id}")
    print_receipt(receipt, False)


@credit_app.command("record")
def credit_record(
    learner: Annotated[str, typer.Option("--learner", help="Learner id.")],
    course: Annotated[
        str, typer.Option("--course", help="INSTITUTION:COURSE_CODE, e.g. SSPU:ME1021.")
    ],
    credits: Annotated[str, typer.Option("--credits", help="Decimal, e.g. 4 or 2.5.")],
    grade: Annotated[int, typer.Option("--grade", min=0, max=100, help="Percentage grade.")],
    earned_on: Annotated[str, typer.Option("--earned-on", help="YYYY-MM-DD.")],
    credit_id: Annotated[str | None, typer.Option("--id", help="Credit id.")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    key: KeyOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record course credits a learner earned (a signed credit.earned entry)."""
    institution, _, course_code = course.partition(":")
    earned = parse_day(earned_on, "--earned-on")
    if not course_code or earned is None:
        raise InputError("--course must look like INSTITUTION:COURSE_CODE")
    with writer(url, token, key, actor) as api:
        receipt = api.record_credit(
            learner_id=learner,
            institution=institution,
            course_code=course_code,
            credits=Decimal(credits),
            grade=grade,
            earned_on=earned,
            credit_id=credit_id,
        )
    print_receipt(receipt, as_json)


@convert_app.command("plan")
def convert_plan(
    learner: Annotated[str, typer.Option("--learner", help="Learner id.")],
    programme: Annotated[str, typer.Option("--programme", help="Programme code.")],
    as_of: DateOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """What the planner would recognise now (nothing is posted)."""
    with client(url, token) as api:
        proposed = api.plan(learner, programme, as_of=parse_day(as_of))
    if as_json:
        print_json(proposed)
        return
    print_plan(proposed)


@convert_app.command("post")
def convert_post(
    learner: Annotated[str, typer.Option("--learner", help="Learner id.")],
    programme: Annotated[str, typer.Option("--programme", help="Programme code.")],
    as_of: DateOption = None,
    conversion_id: Annotated[str | None, typer.Option("--id", help="Conversion id.")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    key: KeyOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ask the planner and post exactly what it proposes (a signed conversion.posted)."""
    conversion_id = conversion_id or "CV-" + new_nonce()[2:]
    with writer(url, token, key, actor) as api:
        proposed, receipt = api.convert(
            learner, programme, as_of=parse_day(as_of), conversion_id=conversion_id
        )
    if receipt is None:
        typer.echo("the planner proposes nothing to recognise; nothing was posted")
        return
    if not as_json:
        print_plan(proposed)
    print_receipt(receipt, as_json, {"conversion_id": conversion_id})


@convert_app.command("reverse")
def convert_reverse(
    conversion_id: Annotated[str, typer.Argument(help="Conversion id.")],
    reason: Annotated[str, typer.Option("--reason", help=REASON_HELP)],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    key: KeyOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reverse a conversion (and every conversion built on what it recognised)."""
    with writer(url, token, key, actor) as api:
        receipt = api.reverse_conversion(conversion_id, reason)
    print_receipt(receipt, as_json)


# --- admin --------------------------------------------------------------------------------
