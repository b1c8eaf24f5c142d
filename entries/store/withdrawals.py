"""Withdrawing stored entries (docs/architecture.md, DESIGN §10): the one place that does it, for the
command line (`entries withdraw`) and the portal (`POST /submissions/{id}/withdraw`) alike.

`withdraw(con, selection, on=..., by_whom=..., reason=..., dry_run=...)` picks a centre's live
entries (those of a claim, of a candidate, or the entry ids of one submission; optionally of one
entry code), prices the credit of each (its whole fee when withdrawn on or before its series'
standard entry deadline, else 0) and records them in `withdrawals` in one transaction, returning
what was withdrawn. It raises `WithdrawalRefused` (nothing changed) when nothing matches or when a
live top-up or moving-down entry rests on one of the picked entries, and `EntryNotFound` when an
entry id named is not of that centre's submission.

A withdrawn entry stays in `entries` (invoices already issued name it, and a credit note is built
from `withdrawals.credit_pence`), but it no longer holds its place in the table's UNIQUE key
(candidate, entry code, unit_key, series): its `unit_key` becomes `-entry_id`, unique to it, so the
candidate can be entered again for the same code, unit and series. DuckDB can neither drop a UNIQUE
constraint nor make an index partial, so moving the withdrawn row out of the key keeps every
existing store working without rebuilding its largest table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from entries.core import clock
from entries.core.errors import EntriesError
from entries.store import database
from entries.store.database import Connection

# An entry is live while no withdrawal names it: every reader of live entries uses this test.
LIVE = "NOT EXISTS (SELECT 1 FROM withdrawals w WHERE w.entry_id = e.entry_id)"


class WithdrawalRefused(EntriesError):
    """Nothing was withdrawn (nothing matched, or a live entry depends on one picked); exit 1."""


class EntryNotFound(WithdrawalRefused):
    """An entry id named is not one of that centre's submission's entries (the portal's 404)."""


@dataclass(frozen=True)
class Selection:
    """Which of `centre`'s live entries to withdraw: those of claim number `claim`, of the candidate
    with UCI `uci` or candidate number `candidate_number`, or `entry_ids` of submission
    `submission_id`; each narrowed to `entry_code` when given. At least one of claim, uci,
    candidate_number or entry_ids must be given."""

    centre: str
    claim: str | None = None
    uci: str | None = None
    candidate_number: str | None = None
    entry_code: str | None = None
    submission_id: int | None = None
    entry_ids: tuple[int, ...] | None = None

    def described(self) -> str:
        """How a message names the selection (identifiers only, never a candidate's name)."""
        parts = [f"centre {self.centre}"]
        if self.claim is not None:
            parts.append(f"claim {self.claim}")
        if self.uci is not None:
            parts.append("the UCI given")  # a UCI is personal data: never echoed into a message
        if self.candidate_number is not None:
            parts.append(f"candidate {self.candidate_number}")
        if self.submission_id is not None:
            parts.append(f"submission {self.submission_id}")
        if self.entry_ids is not None:
            parts.append("entries " + ", ".join(str(i) for i in self.entry_ids))
        if self.entry_code is not None:
            parts.append(f"entry code {self.entry_code}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Withdrawn:
    """One withdrawn (or, in a dry run, to be withdrawn) entry and the credit it earns."""

    entry_id: int
    claim_number: str | None
    candidate_number: str
    entry_code: str
    series: str
    fee_pence: int
    credit_pence: int


def _where(selection: Selection) -> tuple[str, list[object]]:
    """The SQL filter (over entries e, candidates c, submissions s) and its parameters."""
    where: list[str] = ["e.centre_number = ?"]
    params: list[object] = [selection.centre]
    for column, value in (
        ("s.claim_number", selection.claim),
        ("c.uci", selection.uci),
        ("e.candidate_number", selection.candidate_number),
        ("e.entry_code", selection.entry_code),
        ("e.submission_id", selection.submission_id),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if selection.entry_ids is not None:
        where.append("e.entry_id IN (SELECT unnest(?::INTEGER[]))")
        params.append(list(selection.entry_ids))
    return " AND ".join(where), params


def _picked(con: Connection, selection: Selection, on: dt.date) -> list[tuple]:
    """Every entry the selection names, live or not, with its credit on `on` and whether it is
    withdrawn already, its series' deadline, and the live entry (if any) that replaced it."""
    where, params = _where(selection)
    return con.execute(
        f"""SELECT e.entry_id, s.claim_number, e.candidate_number, e.entry_code, e.series, e.fee_pence,
                   CASE WHEN ? <= r.entry_deadline THEN e.fee_pence ELSE 0 END AS credit_pence,
                   NOT ({LIVE}) AS withdrawn, r.entry_deadline,
                   (SELECT d.entry_id FROM entries d WHERE d.entry_id = e.replaced_by
                      AND NOT EXISTS (SELECT 1 FROM withdrawals w WHERE w.entry_id = d.entry_id)) AS live_dependent
            FROM entries e JOIN candidates c ON c.candidate_id = e.candidate_id JOIN submissions s ON s.submission_id = e.submission_id
            LEFT JOIN ref_series r ON r.series = e.series
            WHERE {where}
            ORDER BY e.candidate_number, e.series, e.entry_code, coalesce(e.unit_number, 0), e.entry_id""",
        [on, *params],
    ).fetchall()


def withdraw(
    con: Connection,
    selection: Selection,
    *,
    on: dt.date,
    by_whom: str,
    reason: str | None = None,
    dry_run: bool = False,
) -> list[Withdrawn]:
    """Withdraw the selection's live entries as of `on`, recorded as done by `by_whom` (a portal
    user, or "operator <os user>") for `reason`; returns them in candidate, series, code, unit
    order. With `dry_run` nothing is written. Raises WithdrawalRefused or EntryNotFound (nothing
    changed) as the module says."""
    with database.transaction(con):
        rows = _picked(con, selection, on)
        if selection.entry_ids is not None:
            missing = sorted(set(selection.entry_ids) - {row[0] for row in rows})
            if missing:
                raise EntryNotFound(
                    f"no entry {', '.join(map(str, missing))} in {selection.described()}: nothing withdrawn"
                )
            already = [row[0] for row in rows if row[7]]
            if already:
                raise WithdrawalRefused(
                    f"entr{'y' if len(already) == 1 else 'ies'} {', '.join(map(str, already))} "
                    "already withdrawn: nothing withdrawn"
                )
        live = [row for row in rows if not row[7]]
        if not live:
            raise WithdrawalRefused(f"no live entry matches {selection.described()}: nothing withdrawn")
        ids = {row[0] for row in live}
        # A top-up or moving down replaced this entry and stays: withdrawing the entry it rests on
        # would leave it standing on nothing (withdrawing both together is fine).
        resting = [(row[0], row[3], row[9]) for row in live if row[9] is not None and row[9] not in ids]
        if resting:
            said = "; ".join(f"entry {e} ({code}) has live entry {d} resting on it" for e, code, d in resting)
            raise WithdrawalRefused(f"{said}: withdraw that first; nothing withdrawn")
        undated = sorted({row[4] for row in live if row[8] is None})
        if undated:
            raise WithdrawalRefused(f"series {', '.join(undated)} has no entry deadline on record: nothing withdrawn")
        picked = [Withdrawn(*row[:7]) for row in live]
        if dry_run:
            return picked
        chosen = sorted(ids)
        con.execute(
            f"""INSERT INTO withdrawals (entry_id, withdrawn_on, credit_pence, by_whom, reason, recorded_at)
                SELECT e.entry_id, ?, CASE WHEN ? <= r.entry_deadline THEN e.fee_pence ELSE 0 END, ?, ?, ?
                FROM entries e JOIN ref_series r ON r.series = e.series
                WHERE e.entry_id IN (SELECT unnest(?::INTEGER[])) AND {LIVE}""",
            [on, on, by_whom, reason, clock.now(), chosen],
        )
        # Out of the UNIQUE key: the candidate may be entered again for this code, unit and series.
        con.execute("UPDATE entries SET unit_key = -entry_id WHERE entry_id IN (SELECT unnest(?::INTEGER[]))", [chosen])
    return picked


def withdrawn_of_submission(con: Connection, submission_id: int) -> dict[int, tuple[dt.date, int]]:
    """The submission's withdrawn entries: entry_id -> (withdrawn on, credit in pence). The reason
    and who withdrew are not read: a page shows them to nobody but the operations team."""
    return {
        entry_id: (on, int(credit))
        for entry_id, on, credit in con.execute(
            """SELECT w.entry_id, w.withdrawn_on, w.credit_pence FROM withdrawals w
               JOIN entries e USING (entry_id) WHERE e.submission_id = ?""",
            [submission_id],
        ).fetchall()
    }
