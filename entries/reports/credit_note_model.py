"""The credit note as a typed model (DESIGN §10): the withdrawn entries it credits, by the invoice that
billed them, in integer pence (positive: the amount credited).

Built from the store (`entries.reports.credit_note.build_credit_notes`); every renderer (xlsx, csv,
html, json) reads this model and nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from entries.reports.invoice_model import Party


@dataclass(frozen=True)
class CreditNoteLine:
    """The credited entries billed on one invoice under one order and claim number, with the same
    entry code, kind, late flag and amount each."""

    invoice_number: str
    order_ref: str | None
    claim_number: str | None
    entry_code: str
    title: str
    kind: str
    late: bool
    quantity: int
    unit_credit_pence: int
    amount_pence: int

    def as_json(self) -> dict:
        return {
            "invoice_number": self.invoice_number,
            "order_ref": self.order_ref,
            "claim_number": self.claim_number,
            "entry_code": self.entry_code,
            "title": self.title,
            "kind": self.kind,
            "late": self.late,
            "quantity": self.quantity,
            "unit_credit_pence": self.unit_credit_pence,
            "amount_pence": self.amount_pence,
        }


@dataclass(frozen=True)
class CreditNote:
    """One issued credit note: a centre's withdrawn entries in one series credited on one day."""

    credit_note_number: str
    credit_date: dt.date
    issuer: Party
    centre: Party
    series: str
    vat_rate_basis_points: int
    vat_treatment: str | None
    vat_note: str
    subtotal_pence: int
    vat_pence: int
    total_pence: int
    lines: tuple[CreditNoteLine, ...]

    @property
    def invoice_numbers(self) -> list[str]:
        """The invoices this credit note credits (some of their entries), oldest number first."""
        return sorted({line.invoice_number for line in self.lines})

    @property
    def claim_numbers(self) -> list[str]:
        return sorted({line.claim_number for line in self.lines if line.claim_number})

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def vat_label(self) -> str:
        """The VAT words beside the VAT credited: those of the invoices it credits."""
        rate = f"{self.vat_rate_basis_points / 100:g}%"
        if self.vat_treatment == "exempt":
            return "VAT: exempt"
        if self.vat_treatment == "zero":
            return f"VAT at {rate} (zero-rated)"
        return f"VAT at {rate}"

    def header_fields(self) -> list[tuple[str, str]]:
        """The labelled details every rendering shows above the lines."""
        return [
            ("Credit note number", self.credit_note_number),
            ("Date", self.credit_date.isoformat()),
            ("Credits invoices", ", ".join(self.invoice_numbers)),
            ("Centre number", self.centre.number or ""),
            ("Centre name", self.centre.name),
            ("Series", self.series),
            ("Claim numbers", ", ".join(self.claim_numbers)),
        ]

    @property
    def settlement(self) -> str:
        """What the centre does with the credit (every rendering prints it)."""
        return (
            f"This credit note reduces the amount due on invoice{'s' if len(self.invoice_numbers) > 1 else ''} "
            f"{', '.join(self.invoice_numbers)} by the total credited. If you have already paid, the credit is "
            f"refunded or set against your next invoice; quote {self.credit_note_number} in any remittance."
        )

    def as_json(self) -> dict:
        """The DESIGN §10 credit note object: `credit_note_number`, `date`, `invoice_numbers`,
        `centre`, `series`, `lines` (each with `claim_number`, `entry_code`, `amount_pence` and
        more) and `total_pence`, with the issuer, subtotal and VAT."""
        return {
            "document": "credit_note",
            "credit_note_number": self.credit_note_number,
            "date": self.credit_date.isoformat(),
            "invoice_numbers": self.invoice_numbers,
            "issuer": {
                "name": self.issuer.name,
                "address": list(self.issuer.address),
                "registration": self.issuer.registration,
                "vat_number": self.issuer.vat_number,
                "company_number": self.issuer.company_number,
            },
            "centre": {"number": self.centre.number, "name": self.centre.name, "address": list(self.centre.address)},
            "series": self.series,
            "lines": [line.as_json() for line in self.lines],
            "subtotal_pence": self.subtotal_pence,
            "vat_rate": None if self.vat_treatment == "exempt" else f"{self.vat_rate_basis_points / 100:g}%",
            "vat_treatment": self.vat_treatment,
            "vat_label": self.vat_label,
            "vat_pence": self.vat_pence,
            "vat_note": self.vat_note,
            "total_pence": self.total_pence,
        }
