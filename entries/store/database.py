"""The DuckDB store: opening it, its tables, and explicit transactions.

Every write goes through `transaction()`: DuckDB does not make a `;`-joined string of statements
atomic, so each group of writes is bracketed by an explicit BEGIN/COMMIT and rolled back on any
exception.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import duckdb

from entries.core.errors import StoreBusy
from entries.core.faults import damage_text
from entries.store import health, restoring

# The store's connection and its busy-file error, named here so that no layer above the store
# imports duckdb (an import-linter contract forbids it in cli, web, pipeline, reports and flows).
Connection = duckdb.DuckDBPyConnection
StoreIOError = duckdb.IOException

# One statement per item: executed one by one inside a transaction, never joined with ';'.
DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS ref_suites (
        suite_id VARCHAR PRIMARY KEY, title VARCHAR NOT NULL, level INTEGER NOT NULL,
        sector VARCHAR NOT NULL, version VARCHAR NOT NULL, max_exam_attempts INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ref_qualifications (
        qualification_code VARCHAR PRIMARY KEY, suite_id VARCHAR NOT NULL, size VARCHAR NOT NULL,
        size_rank INTEGER NOT NULL, title VARCHAR NOT NULL, glh INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ref_units (
        suite_id VARCHAR NOT NULL, unit_number INTEGER NOT NULL, title VARCHAR NOT NULL,
        glh INTEGER NOT NULL, assessment VARCHAR NOT NULL, PRIMARY KEY (suite_id, unit_number))""",
    """CREATE TABLE IF NOT EXISTS ref_rules_of_combination (
        qualification_code VARCHAR NOT NULL, unit_number INTEGER NOT NULL, status VARCHAR NOT NULL,
        PRIMARY KEY (qualification_code, unit_number))""",
    """CREATE TABLE IF NOT EXISTS ref_entry_codes (
        entry_code VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, qualification_code VARCHAR NOT NULL,
        from_qualification_code VARCHAR, title VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ref_series (
        series VARCHAR PRIMARY KEY, title VARCHAR NOT NULL, entry_deadline DATE NOT NULL,
        late_entry_deadline DATE NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ref_fees (
        series VARCHAR NOT NULL, entry_code VARCHAR NOT NULL, fee_pence BIGINT NOT NULL,
        late_fee_pence BIGINT NOT NULL, PRIMARY KEY (series, entry_code))""",
    """CREATE TABLE IF NOT EXISTS ref_unit_fees (
        series VARCHAR NOT NULL, suite_id VARCHAR NOT NULL, fee_pence BIGINT NOT NULL,
        late_fee_pence BIGINT NOT NULL, PRIMARY KEY (series, suite_id))""",
    """CREATE TABLE IF NOT EXISTS ref_centres (
        centre_number VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, centre_type VARCHAR NOT NULL)""",
    "ALTER TABLE ref_centres ADD COLUMN IF NOT EXISTS address_line_1 VARCHAR",
    "ALTER TABLE ref_centres ADD COLUMN IF NOT EXISTS address_line_2 VARCHAR",
    "ALTER TABLE ref_centres ADD COLUMN IF NOT EXISTS town VARCHAR",
    "ALTER TABLE ref_centres ADD COLUMN IF NOT EXISTS postcode VARCHAR",
    """CREATE TABLE IF NOT EXISTS ref_issuer (
        name VARCHAR PRIMARY KEY, address_line_1 VARCHAR NOT NULL, address_line_2 VARCHAR, town VARCHAR NOT NULL,
        postcode VARCHAR NOT NULL, vat_number VARCHAR, company_number VARCHAR, vat_rate_basis_points INTEGER NOT NULL,
        vat_note VARCHAR, payment_terms_days INTEGER NOT NULL, invoice_prefix VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ref_centre_approvals (
        centre_number VARCHAR NOT NULL, suite_id VARCHAR NOT NULL, approved_from DATE NOT NULL,
        PRIMARY KEY (centre_number, suite_id))""",
    """CREATE TABLE IF NOT EXISTS reference_versions (
        version_id INTEGER PRIMARY KEY, content_sha256 VARCHAR NOT NULL, loaded_at TIMESTAMP NOT NULL,
        source VARCHAR NOT NULL, row_counts VARCHAR NOT NULL)""",
    # One row per upload, including refused and duplicate ones.
    """CREATE TABLE IF NOT EXISTS submissions (
        submission_id INTEGER PRIMARY KEY, sha256 VARCHAR NOT NULL, file_name VARCHAR NOT NULL,
        file_format VARCHAR, encoding VARCHAR, centre VARCHAR NOT NULL, series VARCHAR,
        order_ref VARCHAR, received_on DATE NOT NULL, status VARCHAR NOT NULL,
        reason_code VARCHAR, reason VARCHAR, rows INTEGER NOT NULL DEFAULT 0,
        accepted INTEGER NOT NULL DEFAULT 0, rejected INTEGER NOT NULL DEFAULT 0,
        held INTEGER NOT NULL DEFAULT 0, duplicate_of INTEGER, created_at TIMESTAMP NOT NULL)""",
    # The content key: a file's bytes are accepted at most once (docs/hostile-inputs.md §F).
    """CREATE TABLE IF NOT EXISTS accepted_files (
        sha256 VARCHAR PRIMARY KEY, submission_id INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS submission_status (
        submission_id INTEGER NOT NULL, seq INTEGER NOT NULL, status VARCHAR NOT NULL,
        reason_code VARCHAR, changed_at TIMESTAMP NOT NULL, PRIMARY KEY (submission_id, seq))""",
    """CREATE TABLE IF NOT EXISTS submission_issues (
        submission_id INTEGER NOT NULL, row_number INTEGER, column_name VARCHAR, code VARCHAR NOT NULL,
        severity VARCHAR NOT NULL, message VARCHAR NOT NULL)""",
    # The fix as the centre was told it, so an outcome rebuilt from the store needs no template values.
    "ALTER TABLE submission_issues ADD COLUMN IF NOT EXISTS fix VARCHAR",
    "CREATE SEQUENCE IF NOT EXISTS submission_ids START 1",
    # Where the upload's series came from (column, folder, option, stated, default), and the claim
    # number an accepted submission is quoted by (entries.core.claims).
    "ALTER TABLE submissions ADD COLUMN IF NOT EXISTS series_source VARCHAR",
    "ALTER TABLE submissions ADD COLUMN IF NOT EXISTS claim_number VARCHAR",
    "CREATE SEQUENCE IF NOT EXISTS claim_numbers START 1",
    # A candidate is known at a centre by candidate number; the UCI links them across centres.
    """CREATE TABLE IF NOT EXISTS candidates (
        candidate_id INTEGER PRIMARY KEY, centre_number VARCHAR NOT NULL, candidate_number VARCHAR NOT NULL,
        uci VARCHAR, uln VARCHAR, surname VARCHAR NOT NULL, forenames VARCHAR NOT NULL, sex VARCHAR NOT NULL,
        date_of_birth DATE NOT NULL, candidate_group VARCHAR NOT NULL DEFAULT '', submission_id INTEGER NOT NULL,
        UNIQUE (centre_number, candidate_number))""",
    "CREATE SEQUENCE IF NOT EXISTS candidate_ids START 1",
    # The day a candidate was first recorded (the web entry form's "added today / this week ..."); NULL
    # for candidates recorded before this column existed.
    "ALTER TABLE candidates ADD COLUMN IF NOT EXISTS added_on DATE",
    # Candidate matching reads one centre's candidates per file: with this index DuckDB answers
    # `centre_number = ?` by an index scan instead of reading the whole, ever-growing table (the
    # UNIQUE index above serves only lookups on both of its columns).
    "CREATE INDEX IF NOT EXISTS candidates_by_centre ON candidates (centre_number)",
    # One row per stored entry: a unit entry per unit. Fees are integer pence, fixed when stored.
    """CREATE TABLE IF NOT EXISTS entries (
        entry_id INTEGER PRIMARY KEY, submission_id INTEGER NOT NULL, source_row INTEGER NOT NULL,
        candidate_id INTEGER NOT NULL, centre_number VARCHAR NOT NULL, candidate_number VARCHAR NOT NULL,
        series VARCHAR NOT NULL, entry_code VARCHAR NOT NULL, kind VARCHAR NOT NULL,
        qualification_code VARCHAR NOT NULL, suite_id VARCHAR NOT NULL, unit_number INTEGER,
        unit_key INTEGER NOT NULL, -- unit_number, or 0 for an entry without a unit (keeps UNIQUE exact)
        fee_pence BIGINT NOT NULL, late BOOLEAN NOT NULL, order_ref VARCHAR, candidate_group VARCHAR NOT NULL DEFAULT '',
        replaced_by INTEGER, created_at TIMESTAMP NOT NULL,
        UNIQUE (candidate_id, entry_code, unit_key, series))""",
    "CREATE SEQUENCE IF NOT EXISTS entry_ids START 1",
    """CREATE TABLE IF NOT EXISTS unit_results (
        uci VARCHAR NOT NULL, qualification_code VARCHAR NOT NULL, unit_number INTEGER NOT NULL,
        series VARCHAR NOT NULL, result VARCHAR NOT NULL, loaded_at TIMESTAMP NOT NULL,
        PRIMARY KEY (uci, qualification_code, unit_number, series))""",
    # Rows held for the operations team: one item per candidate of a submission, with its rows.
    """CREATE TABLE IF NOT EXISTS review_items (
        review_id INTEGER PRIMARY KEY, submission_id INTEGER NOT NULL, reason_code VARCHAR NOT NULL,
        rows_json VARCHAR NOT NULL, source_rows VARCHAR NOT NULL, match_candidate_id INTEGER,
        status VARCHAR NOT NULL DEFAULT 'open', resolution VARCHAR, resolved_at TIMESTAMP)""",
    "CREATE SEQUENCE IF NOT EXISTS review_ids START 1",
    # Centres and approvals added by bulk onboarding: kept apart from the awarding body's reference
    # tables so a reference reload never drops them; reference snapshots read both.
    """CREATE TABLE IF NOT EXISTS onboarded_centres (
        centre_number VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, centre_type VARCHAR NOT NULL, onboarded_at TIMESTAMP NOT NULL)""",
    "ALTER TABLE onboarded_centres ADD COLUMN IF NOT EXISTS address_line_1 VARCHAR",
    "ALTER TABLE onboarded_centres ADD COLUMN IF NOT EXISTS address_line_2 VARCHAR",
    "ALTER TABLE onboarded_centres ADD COLUMN IF NOT EXISTS town VARCHAR",
    "ALTER TABLE onboarded_centres ADD COLUMN IF NOT EXISTS postcode VARCHAR",
    """CREATE TABLE IF NOT EXISTS onboarded_approvals (
        centre_number VARCHAR NOT NULL, suite_id VARCHAR NOT NULL, approved_from DATE NOT NULL, onboarded_at TIMESTAMP NOT NULL,
        PRIMARY KEY (centre_number, suite_id))""",
    # Issued invoices (entries.store.invoices): a number is never reused; an entry is billed once.
    """CREATE TABLE IF NOT EXISTS invoices (
        invoice_number VARCHAR PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, centre VARCHAR NOT NULL, series VARCHAR NOT NULL,
        invoice_date DATE NOT NULL, tax_point DATE NOT NULL, due_date DATE NOT NULL, payment_terms VARCHAR NOT NULL,
        issuer_json VARCHAR NOT NULL, centre_json VARCHAR NOT NULL, vat_rate_basis_points INTEGER NOT NULL,
        vat_note VARCHAR, subtotal_pence BIGINT NOT NULL, vat_pence BIGINT NOT NULL, total_pence BIGINT NOT NULL,
        created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS invoice_entries (
        entry_id INTEGER PRIMARY KEY, invoice_number VARCHAR NOT NULL)""",
    "CREATE SEQUENCE IF NOT EXISTS invoice_numbers START 1",
    # Portal accounts (entries.store.users): a centre user sees one centre; an operator every one.
    """CREATE TABLE IF NOT EXISTS portal_users (
        username VARCHAR PRIMARY KEY, password_hash VARCHAR NOT NULL, role VARCHAR NOT NULL,
        centre VARCHAR, disabled BOOLEAN NOT NULL DEFAULT FALSE, created_at TIMESTAMP NOT NULL)""",
    "ALTER TABLE portal_users ADD COLUMN IF NOT EXISTS signed_out DOUBLE",
    # Candidate groups a centre makes in the portal's entry form (beside its MIS's candidate_group).
    """CREATE TABLE IF NOT EXISTS portal_groups (
        centre VARCHAR NOT NULL, name VARCHAR NOT NULL, candidate_id INTEGER NOT NULL, created_at TIMESTAMP NOT NULL,
        PRIMARY KEY (centre, name, candidate_id))""",
    # One view of centres and approvals: the published list plus bulk-onboarded ones (the published
    # entry wins on a clash). Search, template, validation, reports and invoices all read these.
    """CREATE OR REPLACE VIEW all_centres AS
        SELECT centre_number, name, centre_type, address_line_1, address_line_2, town, postcode,
               'reference' AS source FROM ref_centres
        UNION ALL
        SELECT o.centre_number, o.name, o.centre_type, o.address_line_1, o.address_line_2, o.town, o.postcode,
               'onboarded' AS source FROM onboarded_centres o
        WHERE NOT EXISTS (SELECT 1 FROM ref_centres r WHERE r.centre_number = o.centre_number)""",
    """CREATE OR REPLACE VIEW all_centre_approvals AS
        SELECT centre_number, suite_id, approved_from FROM ref_centre_approvals
        UNION ALL
        SELECT o.centre_number, o.suite_id, o.approved_from FROM onboarded_approvals o
        WHERE NOT EXISTS (SELECT 1 FROM ref_centre_approvals r
                          WHERE r.centre_number = o.centre_number AND r.suite_id = o.suite_id)""",
    # The nightly run's journal: a claimed file, and the submission its commit recorded (exactly once).
    """CREATE TABLE IF NOT EXISTS nightly_claims (
        claim_id INTEGER PRIMARY KEY, sha256 VARCHAR NOT NULL, centre VARCHAR NOT NULL, file_name VARCHAR NOT NULL,
        claimed_path VARCHAR NOT NULL, received_on DATE NOT NULL, order_ref VARCHAR, claimed_at TIMESTAMP NOT NULL,
        submission_id INTEGER, final_path VARCHAR, done_at TIMESTAMP)""",
    "CREATE SEQUENCE IF NOT EXISTS claim_ids START 1",
    # The series a claimed file's folder or the run's --series stated (NULL: the default rule).
    "ALTER TABLE nightly_claims ADD COLUMN IF NOT EXISTS series VARCHAR",
    "ALTER TABLE nightly_claims ADD COLUMN IF NOT EXISTS series_source VARCHAR",
    # The web form's draft entry of each portal user, kept across portal restarts until submitted
    # or cancelled (it holds the candidates chosen: personal data, as the candidates table does).
    """CREATE TABLE IF NOT EXISTS form_drafts (
        username VARCHAR PRIMARY KEY, centre VARCHAR NOT NULL, draft_json VARCHAR NOT NULL,
        updated_at TIMESTAMP NOT NULL)""",
    # Withdrawn entries (entries.store.withdrawals): one row per entry, with its credit in pence as
    # priced on the day, who withdrew it (a portal user or "operator <os user>") and why. The entry
    # itself stays in `entries`; its unit_key becomes -entry_id so its UNIQUE place is free again.
    """CREATE TABLE IF NOT EXISTS withdrawals (
        entry_id INTEGER PRIMARY KEY, withdrawn_on DATE NOT NULL, credit_pence BIGINT NOT NULL,
        by_whom VARCHAR NOT NULL, reason VARCHAR, recorded_at TIMESTAMP NOT NULL)""",
    # Issued credit notes (entries.store.credit_notes): each credits withdrawn entries that an issued
    # invoice billed, an entry at most once (entry_id is the key), with the amount credited as issued.
    """CREATE TABLE IF NOT EXISTS credit_notes (
        credit_note_number VARCHAR PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, centre VARCHAR NOT NULL,
        series VARCHAR NOT NULL, credit_date DATE NOT NULL, issuer_json VARCHAR NOT NULL, centre_json VARCHAR NOT NULL,
        vat_rate_basis_points INTEGER NOT NULL, vat_treatment VARCHAR, vat_note VARCHAR, subtotal_pence BIGINT NOT NULL,
        vat_pence BIGINT NOT NULL, total_pence BIGINT NOT NULL, created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS credit_note_entries (
        entry_id INTEGER PRIMARY KEY, credit_note_number VARCHAR NOT NULL, invoice_number VARCHAR NOT NULL,
        amount_pence BIGINT NOT NULL)""",
    "CREATE SEQUENCE IF NOT EXISTS credit_note_numbers START 1",
    # Uploads with errors to correct on screen (entries.store.upload_drafts): not submissions. Each
    # holds the file's template rows as read (personal data, as `candidates` does) and its issues,
    # until the centre submits the corrected rows or discards them.
    """CREATE TABLE IF NOT EXISTS upload_drafts (
        draft_id INTEGER PRIMARY KEY, username VARCHAR NOT NULL, centre VARCHAR NOT NULL, file_name VARCHAR NOT NULL,
        file_format VARCHAR NOT NULL, order_ref VARCHAR, rows_json VARCHAR NOT NULL, issues_json VARCHAR NOT NULL,
        annotated VARCHAR, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL)""",
    "CREATE SEQUENCE IF NOT EXISTS upload_draft_ids START 1",
    # How the issuer's fees stand for VAT and where centres pay (issue 21): copied onto each invoice.
    "ALTER TABLE ref_issuer ADD COLUMN IF NOT EXISTS vat_treatment VARCHAR",
    "ALTER TABLE ref_issuer ADD COLUMN IF NOT EXISTS bank_name VARCHAR",
    "ALTER TABLE ref_issuer ADD COLUMN IF NOT EXISTS sort_code VARCHAR",
    "ALTER TABLE ref_issuer ADD COLUMN IF NOT EXISTS account_number VARCHAR",
    "ALTER TABLE ref_issuer ADD COLUMN IF NOT EXISTS account_name VARCHAR",
)

REFERENCE_TABLES = (
    "suites",
    "qualifications",
    "units",
    "rules_of_combination",
    "entry_codes",
    "series",
    "fees",
    "unit_fees",
    "centres",
    "centre_approvals",
    "issuer",
)


def waiting_dir(path: Path) -> Path:
    """Where a process waiting for the store leaves its mark, so a long run pauses for it."""
    return path.with_name(path.name + ".waiting")


def waiting_mark(path: Path, pid: int | None = None) -> Path:
    """The mark a waiter (process `pid`, by default this one, and this thread) leaves for the store at
    `path`: named for its process, so a killed waiter's mark can be told from a live one's."""
    return waiting_dir(path) / f"{os.getpid() if pid is None else pid}-{threading.get_ident()}"


def _waiters(path: Path) -> list[Path]:
    """The marks of processes still waiting to open the store at `path` (a killed waiter's mark is
    swept so it never holds a night up)."""
    folder = waiting_dir(path)
    if not folder.is_dir():
        return []
    live = []
    for mark in folder.iterdir():
        try:
            os.kill(int(mark.name.split("-", 1)[0]), 0)
        except ProcessLookupError:
            mark.unlink(missing_ok=True)
            continue
        except (ValueError, OSError):
            pass  # not our naming, or another user's live process: count it
        live.append(mark)
    return live


def someone_waits(path: Path) -> bool:
    """True when another process is waiting to open the store at `path`."""
    return bool(_waiters(path))


def let_waiters_in(path: Path, max_seconds: float = 5.0) -> None:
    """Call just after closing the store at `path`: wait until every process waiting for it has
    opened it (its mark goes), for up to `max_seconds`. Without this the caller's next open, a few
    milliseconds later, takes the store back before a waiter's next try (it retries every 0.1 s), and
    a night would keep it from an operator's command until the last file."""
    deadline = time.monotonic() + max_seconds
    while _waiters(path) and time.monotonic() < deadline:
        time.sleep(0.02)


def hand_over(path: Path, close: Callable[[], None]) -> None:
    """Between files of a long run that holds the store at `path`: when another process waits for
    it, `close` the run's connection and let the waiters in; the run reopens it when next needed."""
    if someone_waits(path):
        close()
        let_waiters_in(path)


def connect(
    path: Path,
    *,
    read_only: bool = False,
    wait_seconds: float = 0.0,
    notify: Callable[[str], None] | None = None,
    verify: bool = False,
) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the store at `path` and make sure its tables exist.

    DuckDB lets one process open a file at a time. When another holds it, wait up to `wait_seconds`
    (telling `notify` once) with a mark in `waiting_dir`, which a nightly run checks between files
    to pause for us; then StoreBusy, one plain line, never DuckDB's own error.

    A file DuckDB cannot open as a store raises StoreDamaged at once (never "in use"), and so
    does a missing store that has pre-run copies beside it (an empty new store would silently
    forget every centre). A restore a kill interrupted is finished first. With `verify`, every
    block of the store is read (for money and for the copy a night keeps)."""
    restoring.finish_interrupted(path)
    # Never read the file itself here: this process may have it open already, and closing any
    # descriptor of it drops DuckDB's lock (entries.store.health). DuckDB says what is wrong.
    if not path.exists() and restoring.copies(path):
        raise health.damaged(path, "it is missing, though copies of it taken before nights exist")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    mark: Path | None = None
    try:
        while True:
            try:
                con = duckdb.connect(str(path), read_only=read_only)
                break
            except duckdb.IOException as exc:
                if not health.is_locked(exc):
                    raise health.damaged(path, damage_text(exc) or "it cannot be opened") from None
                if time.monotonic() >= deadline:
                    raise StoreBusy(
                        f"the store {path} is in use by another process (a nightly run?); try again when it has "
                        f"finished ({str(exc).splitlines()[0][:80]})"
                    ) from None
                if mark is None:
                    mark = waiting_mark(path)
                    mark.parent.mkdir(exist_ok=True)
                    mark.touch()
                    if notify is not None:
                        notify(
                            f"the store is in use by another process; waiting up to {wait_seconds:.0f} s for it to pause"
                        )
                time.sleep(0.1)
            except duckdb.Error as exc:  # DuckDB's other words for a file it cannot load as a store
                raise health.damaged(path, damage_text(exc) or "it cannot be opened") from None
    finally:
        if mark is not None:
            mark.unlink(missing_ok=True)
    try:
        if verify:
            health.read_everything(con, path)
        if not read_only:
            bring_up_to_date(con)
    except BaseException as exc:
        con.close()
        what = damage_text(exc) if isinstance(exc, duckdb.Error) else None
        if what is not None:
            raise health.damaged(path, what) from None
        raise
    return con


def bring_up_to_date(con: duckdb.DuckDBPyConnection) -> None:
    """Create what this DDL has and the store `con` has open lacks (tables, columns, sequences,
    views), unless the store was last brought up to this very DDL."""
    if _schema_current(con):
        return
    with transaction(con):
        for statement in DDL:
            con.execute(statement)
        con.execute("CREATE TABLE IF NOT EXISTS schema_fingerprint (sha256 VARCHAR NOT NULL)")
        con.execute("DELETE FROM schema_fingerprint")
        con.execute("INSERT INTO schema_fingerprint VALUES (?)", [_fingerprint()])


@cache
def _fingerprint() -> str:
    """The DDL's hash: a store that records it has every table, column and view already."""
    return hashlib.sha256("\n;\n".join(DDL).encode()).hexdigest()


def _schema_current(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the store was last brought up to this very DDL (so opening it costs one query,
    not the whole DDL: the portal and every command open the store often)."""
    try:
        found = con.execute("SELECT sha256 FROM schema_fingerprint").fetchall()
    except duckdb.CatalogException:
        return False
    return found == [(_fingerprint(),)]


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT around the block; ROLLBACK and re-raise on any exception."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def has_reference_data(con: duckdb.DuckDBPyConnection) -> bool:
    """True once any reference version has been loaded."""
    return con.execute("SELECT count(*) FROM reference_versions").fetchall()[0][0] > 0
