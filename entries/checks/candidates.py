"""Candidate matching: select existing candidates rather than create new ones, as the guide asks.

Each candidate of a file (one per candidate number) is matched, at the uploading centre only, by
UCI, else by candidate number; a new candidate whose name and date of birth closely match one
already at the centre is held for review instead of becoming a second record. A UCI on record at
another centre (a pupil who moved, or a typo) is held for the operations team (CAND_04) whatever
name or date of birth came with it, so the reply tells the centre nothing about the other
centre's record. Pure: `entries.store.matching` reads the store and hands the facts here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

SAME_PERSON = 0.85  # Jaro-Winkler of "surname forenames": same record, allowing a typo or a nickname
PROBABLE_DUPLICATE = 0.92  # a different candidate number but this close, with the same date of birth


@dataclass
class Matches:
    """Per candidate number in the file: `cand_key` (a stored candidate_id, or negative for a new
    candidate), `hold` (a CAND_ code or None) and `match_id` (the stored candidate it resembles)."""

    table: pd.DataFrame

    def key_of(self) -> dict[str, int]:
        return dict(zip(self.table["candidate_number"], self.table["cand_key"], strict=False))


@dataclass(frozen=True)
class Found:
    """What the store knows of a file's candidates, each frame keyed by the file's candidate number.

    by_uci: candidate_id, same_dob (the UCI on record at this centre); by_number: candidate_id,
    same_person (the number on record at this centre); lookalike: candidate_id, their_number (a
    close name with the same date of birth under another number); elsewhere: the UCI is on record
    at another centre only."""

    by_uci: pd.DataFrame
    by_number: pd.DataFrame
    lookalike: pd.DataFrame
    elsewhere: pd.DataFrame


def decide(people: pd.Series, found: Found) -> Matches:
    """Each candidate number of `people`: the record it is, or a new one, or held (and why)."""
    uci_hit = {n: (int(cid), bool(same)) for n, cid, same in found.by_uci.itertuples(index=False)}
    number_hit = {n: (int(cid), bool(same)) for n, cid, same in found.by_number.itertuples(index=False)}
    looks = {n: (int(cid), their) for n, cid, their in found.lookalike.itertuples(index=False)}
    elsewhere = set(found.elsewhere["candidate_number"])
    records = []
    new_key = 0
    for number in people:
        hold, match_id, key, params = None, None, None, {}
        if number in uci_hit:
            match_id, same = uci_hit[number]
            key, hold = (match_id, None) if same else (None, "CAND_02")
        elif number in elsewhere:
            # Nothing of the other centre's record is used or shown: no match id, no comparison.
            hold = "CAND_04"
        elif number in number_hit:
            match_id, same = number_hit[number]
            key, hold = (match_id, None) if same else (None, "CAND_03")
            params = {"candidate": number}
        elif number in looks:
            match_id, their = looks[number]
            hold, params = "CAND_01", {"candidate": their}
        if key is None and hold is None:
            new_key -= 1
            key = new_key
        records.append(
            {"candidate_number": number, "cand_key": key, "hold": hold, "match_id": match_id, "params": params}
        )
    return Matches(
        pd.DataFrame.from_records(records, columns=["candidate_number", "cand_key", "hold", "match_id", "params"])
    )
