"""The invoice as a typed model: a centre's orders, each with its lines (amounts in integer pence).

Built once per centre from the store (`entries.reports.invoice.build_invoice`); every renderer
(xlsx, csv, html, json) reads this model and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NO_ORDER = "No order number"


@dataclass(frozen=True)
class InvoiceLine:
    """The entries of one order with the same entry code, kind, late flag and fee."""

    entry_code: str
    title: str
    kind: str
    quantity: int
    fee_pence: int
    amount_pence: int
    late: bool

    def as_json(self) -> dict:
        return {
            "entry_code": self.entry_code,
            "title": self.title,
            "kind": self.kind,
            "quantity": self.quantity,
            "fee_pence": self.fee_pence,
            "amount_pence": self.amount_pence,
            "late": self.late,
        }


@dataclass(frozen=True)
class InvoiceOrder:
    """One order number in one series (entries without an order number are an order of their own)."""

    order_ref: str | None
    series: str
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
            "series": self.series,
            "lines": [line.as_json() for line in self.lines],
            "total_pence": self.total_pence,
        }


@dataclass(frozen=True)
class Invoice:
    """A centre's invoice for a series (None: every series), optionally one order number."""

    centre: str
    centre_name: str | None
    series: str | None
    order_ref: str | None = None
    orders: tuple[InvoiceOrder, ...] = field(default_factory=tuple)

    @property
    def total_pence(self) -> int:
        return sum(order.total_pence for order in self.orders)

    @property
    def quantity(self) -> int:
        return sum(order.quantity for order in self.orders)

    @property
    def lines(self) -> list[InvoiceLine]:
        return [line for order in self.orders for line in order.lines]

    def header_fields(self) -> list[tuple[str, str]]:
        """The labelled details every rendering shows above the orders."""
        return [
            ("Centre number", self.centre),
            ("Centre name", self.centre_name or ""),
            ("Series", self.series or "All series"),
            ("Order number", self.order_ref if self.order_ref is not None else "All orders"),
        ]

    def as_json(self) -> dict:
        """The `entries invoice --json` object (docs/architecture.md §8)."""
        return {
            "centre": self.centre,
            "centre_name": self.centre_name,
            "series": self.series,
            "orders": [order.as_json() for order in self.orders],
            "total_pence": self.total_pence,
        }
