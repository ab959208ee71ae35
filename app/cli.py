"""Operator commands: import the mailing batch and access events, run the jobs, verify the audit chain, callbacks."""
import json
import os
import sys
from datetime import date, timezone

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from . import audit, bulk, clock, csvsafe, outbox
from .demo import load
from .domain.errors import InvalidIdentifier, InvalidTransition, NotFound
from .domain.identifiers import normalize_nir
from .services import Actor, access, callbacks, enrolment, spaces, staff
from .services.base import chunk
from .services.mandates import RowRefused, import_mandate, record_autonomy
from .services.validation import IDENTIFIER_MESSAGES, NOT_UTF8, RowErrors, _iso_date, submit_access, undecodable
from .text import format_reference

ENROL_COLUMNS = ["nir", "vitale_serial", "family_name", "given_name", "birth_date", "phone", "email",
                 "language", "letter_sent_on"]


def register(app: Flask) -> None:
    app.cli.add_command(enrol_command)
    app.cli.add_command(access_events)
    app.cli.add_command(jobs)
    app.cli.add_command(audit_group)
    app.cli.add_command(reports)
    app.cli.add_command(demo)
    app.cli.add_command(outbox_group)
    app.cli.add_command(mandates_group)
    app.cli.add_command(callbacks_group)
    app.cli.add_command(staff_group)


def _say_errors(line: int, errors: dict[str, str], progress: bulk.Progress | None = None) -> None:
    for field, message in errors.items():
        if progress is not None:
            progress.echo(f"line {line}: {field}: {message}")
        else:
            click.echo(f"line {line}: {field}: {message}", err=True)


def _chunk_option(f):
    return click.option("--chunk", "chunk_rows", type=click.IntRange(1, 10_000), default=None,
                        help="rows a transaction [default: IMPORT_CHUNK_ROWS, 1000]")(f)


def _progress_option(f):
    return click.option("--progress-every", type=click.IntRange(1), default=None,
                        help="rows between two progress lines when stderr is not a terminal "
                             "[default: IMPORT_PROGRESS_EVERY, 10000]")(f)


@click.command("enrol")
@click.argument("batch", type=click.Path(exists=True, dir_okay=False))
@click.option("--codes-out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="CSV file that receives nir,provisional_code for each row imported (continued if it is there)")
@_chunk_option
@_progress_option
@with_appcontext
def enrol_command(batch, codes_out, chunk_rows, progress_every):
    """Import the mailing batch: each good row gets a notified space and a provisional code.

    Rows are read as a stream and stored a chunk a transaction. Stopped at any moment, the same command (the same
    batch file name) imports what is missing, and first writes the codes the stopped run had stored but perhaps
    not written; rows already enrolled are counted, not refused.
    """
    rows = bulk.CsvStream(batch)
    try:
        missing = [c for c in ENROL_COLUMNS if c not in rows.fieldnames]
        if missing:
            raise click.ClickException("missing columns: " + ", ".join(missing))
        name = os.path.basename(batch)
        progress = bulk.Progress(f"enrol {name}", rows.total,
                                 progress_every or current_app.config["IMPORT_PROGRESS_EVERY"])
        codes = enrolment.CodesFile(codes_out)
        job = enrolment.BatchImport(name, codes, report=lambda line, errors: _say_errors(line, errors, progress),
                                    progress=progress.update, chunk_rows=chunk_rows)
        job.settle_pending()
        try:
            codes.open()
        except enrolment.CodesFileError as exc:
            raise click.ClickException(str(exc)) from None
        try:
            if codes.continued:
                progress.echo(f"{codes_out} is there: its codes are kept, this run's are added after them")
            job.write_pending()
            summary = job.run(rows)
        finally:
            codes.close()
            progress.finish()
    finally:
        rows.close()
    _say_summary(summary)
    if summary.rejected or summary.unreadable:
        sys.exit(1)


def _say_summary(s: enrolment.Summary) -> None:
    click.echo(f"{s.imported} imported, {s.rejected} rejected, {s.already} already enrolled")
    if s.resumed or s.found:
        click.echo(f"codes of an interrupted run: {s.resumed} written first to this run's file, "
                   f"{s.found} found already written in that run's file")
    if s.reasons:
        click.echo("rejected by reason:")
        for reason, count in sorted(s.reasons.items(), key=lambda r: (-r[1], r[0])):
            click.echo(f"  {count:>7}  {reason}")
    if s.unreadable:
        click.echo(f"{s.unreadable} code(s) of this batch stored by an interrupted run are sealed under another "
                   "SEAL_KEY: run the batch again with the key of that run to write them", err=True)
    for name, count in sorted(s.elsewhere.items()):
        click.echo(f"{count} code(s) of batch {name} still wait for their CODES.csv: run that batch again",
                   err=True)


@click.group("access-events", cls=AppGroup)
def access_events():
    """Access events from the health-record system."""


@access_events.command("import")
@click.argument("events", type=click.Path(exists=True, dir_okay=False))
@click.option("--chunk", "chunk_rows", type=click.IntRange(1, 10_000), default=100, show_default=True,
              help="events a transaction (each event's checks and writes a savepoint in it)")
@_progress_option
def import_events(events, chunk_rows, progress_every):
    """Import EVENTS.jsonl: one JSON object per line; prints each decision, reports bad lines.

    Lines are read as a stream and recorded a chunk a transaction; a chunk's decisions are printed once it is
    committed, so a decision printed is a decision kept (a repeated event_id gets the same one back)."""
    lines = bulk.LineStream(events)
    progress = bulk.Progress(f"access-events {os.path.basename(events)}", lines.total,
                             progress_every or current_app.config["IMPORT_PROGRESS_EVERY"])
    rejected = 0
    try:
        for rows in bulk.chunks(lines, chunk_rows):
            answers = []
            with chunk():
                for row in rows:
                    answers.append((row.line, _event_answer(row)))
            for number, answer in answers:  # committed: now they can be told
                if isinstance(answer, RowErrors):
                    _say_errors(number, answer.errors, progress)
                    rejected += 1
                elif answer is not None:
                    click.echo(json.dumps(answer))
            progress.update(rows[-1].line)
    finally:
        lines.close()
        progress.finish()
    if rejected:
        click.echo(f"{rejected} line(s) rejected", err=True)
        sys.exit(1)


def _event_answer(row: bulk.Row) -> dict | RowErrors | None:
    """One line of EVENTS.jsonl recorded (inside the chunk's transaction): its answer, its errors, or None (blank)."""
    text = row.values
    if not text.strip():
        return None
    try:
        if undecodable(text):
            raise RowErrors(NOT_UTF8)
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            raise RowErrors({"line": "not valid JSON"}) from None
        event, decision, created = submit_access(data, "cli")
    except RowErrors as exc:
        return exc
    return {"line": row.line, "event_id": event.event_key, "decision": decision.outcome, "reason": decision.reason,
            "duplicate": not created}


@click.group("jobs", cls=AppGroup)
def jobs():
    """Scheduled jobs."""


@jobs.command("run")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="apply what is due by this date (default: today)")
def run_jobs(as_of):
    """Create spaces whose window ended, purge due closures, void expired codes, send what is queued."""
    day: date = as_of.date() if as_of else clock.today()
    counts = spaces.run_jobs(day)
    click.echo(f"as of {day.isoformat()}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    _echo_root(audit.seal())  # each run ends with a signed root over every chain


def _echo_root(root) -> None:
    click.echo(f"audit root {root.id} sealed: {root.entries} entries in {root.chains} chains, "
               f"root {root.root_hash[:16]}…, signed by key {root.key_id}")


@click.group("audit", cls=AppGroup)
def audit_group():
    """The audit log: one hash chain per person, and signed roots over them all."""


@audit_group.command("verify")
def verify():
    """Check every entry of every chain and every signed root (exit 1 on the first break)."""
    click.echo(f"public key (Ed25519, base64): {audit.public_key_text(audit.public_keys()[0])}")
    report = audit.check()
    if not report.ok:
        raise click.ClickException(f"audit broken: {report.problem} ({report.entries} entries checked before it)")
    click.echo(f"audit intact: {report.entries} entries in {report.chains} chains, {report.roots} signed roots")
    for note in report.notes:
        click.echo(note)


@audit_group.command("seal")
def seal():
    """Record and sign the root of the tree over every chain's head now."""
    _echo_root(audit.seal())


@click.group("reports", cls=AppGroup)
def reports():
    """Accesses reported as not recognised."""


@reports.command("export")
@click.argument("out", type=click.File("w", encoding="utf-8"))
def export_reports(out):
    """Write the reported accesses as CSV for the operator's case handling."""
    writer = csvsafe.Writer(out)  # names come from outside: none may run as a formula in a spreadsheet
    writer.writerow(["reference", "reported_at", "channel", "person_id", "occurred_at", "professional_name",
                     "profession", "organisation", "professional_id", "mode", "decision"])
    for report, event in access.reports_for_export():
        writer.writerow([report.reference, report.created_at.isoformat(timespec="seconds") + "Z", report.channel,
                         report.person_id, event.occurred_at.isoformat(timespec="seconds") + "Z",
                         event.professional_name, event.profession, event.organisation,
                         event.professional_id or "", event.mode, event.decision])


@click.group("demo", cls=AppGroup)
def demo():
    """Demo data for trying Relais."""


@demo.command("load")
@click.option("--codes-out", type=click.Path(dir_okay=False), default=None)
def load_demo(codes_out):
    """Load the demo people (idempotent) and print how to identify as each."""
    for line in load(codes_out):
        click.echo(line)


@click.group("outbox", cls=AppGroup)
def outbox_group():
    """Outgoing SMS, e-mails and letters."""


@outbox_group.command("work")
@click.option("--once", is_flag=True, help="send what is due, then stop")
@click.option("--interval", type=float, default=None,
              help="seconds between two looks at the queue [default: 2 on SQLite; 30 on PostgreSQL, where a "
                   "commit that queues a message wakes the worker at once]")
def outbox_work(once, interval):
    """The worker: sends queued messages, retrying with back-off while the carrier is unreachable.

    Any number of workers can run side by side: each claims its own batch of messages (app/outbox.py)."""
    if once:
        click.echo(f"{outbox.send_due(limit=None)} sent")
        return
    outbox.work(interval)


@outbox_group.command("letters")
@click.argument("out", type=click.File("w", encoding="utf-8"))
def outbox_letters(out):
    """Write the queued letters as one printable HTML file (a page a letter) and mark them printed."""
    count = outbox.export_letters(out)
    click.echo(f"{count} letter(s) written")


@outbox_group.command("failed")
@click.option("--limit", default=200, show_default=True, help="how many, newest first")
def outbox_failed(limit):
    """Messages that failed for good, and the letter that went instead of each SMS (numbers masked)."""
    rows = outbox.failed(limit)
    for msg, letters in rows:
        instead = ", ".join(f"letter #{letter.id} {letter.status}" for letter in letters) or "no letter"
        click.echo(f"#{msg.id} {msg.channel} to {outbox.mask(msg.recipient)} ref {format_reference(msg.reference)} "
                   f"{msg.created_at:%Y-%m-%d %H:%M} {msg.last_error or '-'}: {instead}")
    click.echo(f"{len(rows)} failed message(s)")


MANDATE_COLUMNS = ["representative_nir", "represented_nir", "kind", "valid_from", "valid_until"]


@click.group("mandates", cls=AppGroup)
def mandates_group():
    """Mandates of legal representatives."""


@mandates_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--chunk", "chunk_rows", type=click.IntRange(1, 10_000), default=100, show_default=True,
              help="rows a transaction (each row's checks and writes a savepoint in it)")
@_progress_option
def mandates_import(path, chunk_rows, progress_every):
    """Import MANDATES.csv; bad rows are reported by line and nothing of them is stored.

    Rows are read as a stream and stored a chunk a transaction; a mandate already there is counted, not stored
    twice, so the same file can be imported again after an interruption."""
    rows = bulk.CsvStream(path)
    try:
        missing = [c for c in MANDATE_COLUMNS if c not in rows.fieldnames]
        if missing:
            raise click.ClickException("missing columns: " + ", ".join(missing))
        progress = bulk.Progress(f"mandates {os.path.basename(path)}", rows.total,
                                 progress_every or current_app.config["IMPORT_PROGRESS_EVERY"])
        counts = {"imported": 0, "rejected": 0, "already": 0}
        try:
            for part in bulk.chunks(rows, chunk_rows):
                outcomes = []
                with chunk():
                    for row in part:
                        outcomes.append((row.line, _mandate_outcome(row)))
                for line, outcome in outcomes:
                    if isinstance(outcome, dict):
                        _say_errors(line, outcome, progress)
                        counts["rejected"] += 1
                    else:
                        counts["imported" if outcome else "already"] += 1
                progress.update(part[-1].line - 1)
        finally:
            progress.finish()
    finally:
        rows.close()
    click.echo(f"{counts['imported']} imported, {counts['rejected']} rejected, {counts['already']} already there")
    if counts["rejected"]:
        sys.exit(1)


def _mandate_outcome(row: bulk.Row) -> bool | dict[str, str]:
    """One row of MANDATES.csv stored (inside the chunk's transaction): True, False when the same mandate is there
    already, or the errors by field."""
    if row.error:
        return {"row": row.error}
    values, errors = {}, {}
    if undecodable(*row.values.values()):
        return NOT_UTF8
    for field in ("representative_nir", "represented_nir"):
        try:
            values[field] = normalize_nir((row.values.get(field) or "").strip())
        except InvalidIdentifier as exc:
            errors[field] = IDENTIFIER_MESSAGES.get(exc.code, "is not valid")
    for field in ("valid_from", "valid_until"):
        raw = (row.values.get(field) or "").strip()
        if field == "valid_until" and not raw:
            values[field] = None
            continue
        try:
            values[field] = _iso_date(raw)
        except ValueError as exc:
            errors[field] = str(exc)
    if errors:
        return errors
    try:
        return import_mandate(values["representative_nir"], values["represented_nir"],
                              (row.values.get("kind") or "").strip().lower(), values["valid_from"],
                              values["valid_until"])
    except RowRefused as exc:
        return exc.errors


@mandates_group.command("autonomy")
@click.argument("nir")
@click.option("--on", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="the day autonomy starts (default: today)")
def mandates_autonomy(nir, on):
    """Record that a minor (16 or more) is autonomous: their parents' mandates end that day."""
    try:
        record_autonomy(normalize_nir(nir), on.date() if on else clock.today())
    except InvalidIdentifier:
        raise click.ClickException("nir: is not a valid NIR") from None
    except RowRefused as exc:
        raise click.ClickException("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from None
    click.echo("recorded")


@click.group("callbacks", cls=AppGroup)
def callbacks_group():
    """Callbacks booked on the phone line, for the advisers."""


CALLBACK_COLUMNS = f"{'id':>6}  {'reference':<11}  {'half-day':<13}  {'number':<13}  {'goal':<9}  lang  created (Paris)"


@callbacks_group.command("list")
@click.option("--all", "everything", is_flag=True, help="the last 100 callbacks, done and cancelled ones too")
def callbacks_list(everything):
    """The callbacks to make, oldest first: the half-day booked and the number to call."""
    rows = callbacks.latest() if everything else callbacks.pending()
    if not rows:
        click.echo("no callback" if everything else "no callback to make")
        return
    click.echo(CALLBACK_COLUMNS + ("  status" if everything else ""))
    for cb in rows:
        created = cb.created_at.replace(tzinfo=timezone.utc).astimezone(clock.PARIS)
        line = (f"{cb.id:>6}  {format_reference(cb.reference):<11}  {cb.slot_day.isoformat()} {cb.slot:<2}  "
                f"{cb.phone or '-':<13}  {cb.goal or '-':<9}  {cb.language:<4}  {created:%Y-%m-%d %H:%M}")
        if cb.call_hours:  # overseas: the hours of the booked half-day on the person's clock, in Paris time
            start, end = (t.astimezone(clock.PARIS) for t in cb.call_hours)
            line += f"  call {start:%H:%M}-{end:%H:%M} Paris ({cb.call_hours[0]:%H:%M}-{cb.call_hours[1]:%H:%M} there)"
        click.echo(line + (f"  {cb.status}" if everything else ""))


@callbacks_group.command("done")
@click.argument("callback_id", type=int)
def callbacks_done(callback_id):
    """Mark callback CALLBACK_ID as made: its number is forgotten."""
    try:
        cb = callbacks.mark_done(callback_id, Actor(None, "cli"))
    except NotFound:
        raise click.ClickException(f"no callback {callback_id}") from None
    except InvalidTransition as exc:
        raise click.ClickException(f"callback {callback_id} is {exc.state}, not pending") from None
    click.echo(f"callback {cb.id} ({format_reference(cb.reference)}) done")


@click.group("staff", cls=AppGroup)
def staff_group():
    """Staff of the desk (/desk): enrol, disable, and the demo accounts' codes."""


@staff_group.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(staff.ROLES), required=True)
@click.option("--name", default=None, help="as the desk shows it, e.g. «A. Dupont»")
def staff_add(email, role, name):
    """Print a one-time enrolment link for EMAIL (24 hours, single use): a passphrase, then an authenticator."""
    try:
        token = staff.add(email, role, name)
    except staff.StaffError as exc:
        raise click.ClickException(str(exc)) from None
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    click.echo(f"enrolment link for {email.strip().lower()} ({role}), valid "
               f"{current_app.config['STAFF_ENROLMENT_HOURS']} hours, once:")
    click.echo(f"{base}/desk/enrol/{token}")


@staff_group.command("disable")
@click.argument("email")
def staff_disable(email):
    """End EMAIL's access at once, its open desk sessions included."""
    try:
        member = staff.disable(email)
    except staff.StaffError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{member.email} disabled")


@staff_group.command("code")
@click.argument("email")
def staff_code(email):
    """The current 6-digit code of a demo account (refused for any other account)."""
    try:
        click.echo(staff.current_code(email))
    except staff.StaffError as exc:
        raise click.ClickException(str(exc)) from None
