"""The invoice as a typed model: an issued invoice's details, its orders and their lines (integer pence).

Built from the store (`entries.reports.invoice.build_invoice`) for one issued invoice; every renderer
(xlsx, csv, html, json) reads this model and nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

NO_ORDER = "No order number"


@dataclass(frozen=True)
class InvoiceLine:
    """The entries of one order and one claim with the same entry code, kind, late flag and fee."""

    entry_code: str
    title: str
    kind: str
    quantity: int
    unit_fee_pence: int
    amount_pence: int
    late: bool
    claim_number: str | None = None

    def as_json(self) -> dict:
        return {
            "entry_code": self.entry_code,
            "title": self.title,
            "kind": self.kind,
            "quantity": self.quantity,
            "unit_fee_pence": self.unit_fee_pence,
            "late": self.late,
            "amount_pence": self.amount_pence,
            "claim_number": self.claim_number,
        }


@dataclass(frozen=True)
class InvoiceOrder:
    """One order number's lines (entries sent without an order number are an order of their own)."""

    order_ref: str | None
    lines: tuple[InvoiceLine, ...]

    @property
    def total_pence(self) -> int:
        return sum(line.amount_pence for line in self.lines)

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def label(self) -> str:
        return self.order_ref if self.order_ref is not None else NO_ORDER

    def as_json(self) -> dict:
        return {
            "order_ref": self.order_ref,
            "lines": [line.as_json() for line in self.lines],
            "total_pence": self.total_pence,
        }


@dataclass(frozen=True)
class Party:
    """Who issues or receives the invoice: a name, address lines and registration details."""

    name: str
    address: tuple[str, ...]
    number: str | None = None  # the centre's number
    vat_number: str | None = None
    company_number: str | None = None

    @property
    def registration(self) -> str:
        parts = []
        if self.company_number:
            parts.append(f"Registered number {self.company_number}")
        if self.vat_number:
            parts.append(f"VAT registration {self.vat_number}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Payment:
    """Where a centre pays: the issuer's UK bank account as copied onto the invoice when it was issued."""

    bank: str
    sort_code: str  # NN-NN-NN
    account_number: str  # 8 digits, text so leading zeros stay
    account_name: str

    def fields(self, reference: str) -> list[tuple[str, str]]:
        """The labelled details every rendering shows under "How to pay"; `reference` is the invoice number."""
        return [
            ("Bank", self.bank),
            ("Account name", self.account_name),
            ("Sort code", self.sort_code),
            ("Account number", self.account_number),
            ("Payment reference", reference),
        ]


@dataclass(frozen=True)
class Invoice:
    """One issued invoice: a centre's entries in one series billed on one day."""

    invoice_number: str
    invoice_date: dt.date
    tax_point: dt.date
    due_date: dt.date
    payment_terms: str
    issuer: Party
    centre: Party
    series: str
    vat_rate_basis_points: int
    vat_note: str
    subtotal_pence: int
    vat_pence: int
    total_pence: int
    orders: tuple[InvoiceOrder, ...] = field(default_factory=tuple)
    # exempt, zero or standard; None on invoices issued before the issuer's treatment was copied
    # onto them, which keep the words they were issued with ("VAT at 0%").
    vat_treatment: str | None = None
    payment: Payment | None = None  # None on invoices issued without the issuer's bank details

    @property
    def quantity(self) -> int:
        return sum(order.quantity for order in self.orders)

    @property
    def lines(self) -> list[InvoiceLine]:
        return [line for order in self.orders for line in order.lines]

    @property
    def vat_rate(self) -> str:
        """The VAT rate as a percentage, e.g. `20%` or `0%`."""
        return f"{self.vat_rate_basis_points / 100:g}%"

    @property
    def vat_label(self) -> str:
        """What every rendering prints beside the VAT amount: `VAT: exempt` for exempt fees (no rate:
        exempt is not a rate of 0%), `VAT at 0% (zero-rated)`, or `VAT at <rate>` when VAT is charged."""
        if self.vat_treatment == "exempt":
            return "VAT: exempt"
        if self.vat_treatment == "zero":
            return f"VAT at {self.vat_rate} (zero-rated)"
        return f"VAT at {self.vat_rate}"

    @property
    def payment_reference(self) -> str:
        """The reference a centre quotes on its transfer so the payment is matched: the invoice number."""
        return self.invoice_number

    @property
    def claim_numbers(self) -> list[str]:
        return sorted({line.claim_number for line in self.lines if line.claim_number})

    def header_fields(self) -> list[tuple[str, str]]:
        """The labelled details every rendering shows above the orders."""
        return [
            ("Invoice number", self.invoice_number),
            ("Invoice date", self.invoice_date.isoformat()),
            ("Tax point", self.tax_point.isoformat()),
            ("Due date", self.due_date.isoformat()),
            ("Centre number", self.centre.number or ""),
            ("Centre name", self.centre.name),
            ("Series", self.series),
            ("Claim numbers", ", ".join(self.claim_numbers)),
        ]

    def as_json(self) -> dict:
        """The docs/architecture.md §8 invoice object, with `vat_treatment`, `vat_label` and `payment` (bank,
        sort_code, account_number, account_name, reference) when the invoice carries them."""
        found: dict = {
            "invoice_number": self.invoice_number,
            "invoice_date": self.invoice_date.isoformat(),
            "tax_point": self.tax_point.isoformat(),
            "issuer": {
                "name": self.issuer.name,
                "address": list(self.issuer.address),
                "registration": self.issuer.registration,
                "vat_number": self.issuer.vat_number,
                "company_number": self.issuer.company_number,
            },
            "centre": {"number": self.centre.number, "name": self.centre.name, "address": list(self.centre.address)},
            "series": self.series,
            "orders": [order.as_json() for order in self.orders],
            "subtotal_pence": self.subtotal_pence,
            "vat_rate": None if self.vat_treatment == "exempt" else self.vat_rate,
            "vat_pence": self.vat_pence,
            "vat_note": self.vat_note,
            "total_pence": self.total_pence,
            "payment_terms": self.payment_terms,
            "due_date": self.due_date.isoformat(),
        }
        # Invoices issued before these details were copied onto them keep their JSON as issued.
        if self.vat_treatment is not None:
            found["vat_treatment"] = self.vat_treatment
            found["vat_label"] = self.vat_label  # the words the other formats print, e.g. "VAT: exempt"
        if self.payment is not None:
            found["payment"] = {
                "bank": self.payment.bank,
                "sort_code": self.payment.sort_code,
                "account_number": self.payment.account_number,
                "account_name": self.payment.account_name,
                "reference": self.payment_reference,
            }
        return found
