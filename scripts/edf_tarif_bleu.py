"""Writes app/pricing/offers/edf_tarif_bleu.json from scripts/data/trve.csv (run after editing the CSV).

`trve.csv` is EDF's Tarif Bleu grid (TTC) from 2024-02-01: one row per (option, kVA, period, bucket) with
the subscription repeated on each row and the document each figure was read from (`source`). Every row
becomes one price of one period of one offer `edf-<option>-<kVA>`; the period keeps the source of each
of its rows (deduplicated, in CSV order) and is flagged `low_confidence` when one of its rows says
`LOW-CONFIDENCE`. `valid_to` is inclusive in the CSV and exclusive in the catalogue; an empty `valid_to`
is an open period (in force until a newer grid arrives from the gateway or the user).

    python -m scripts.edf_tarif_bleu          # rewrite the JSON
    python -m scripts.edf_tarif_bleu --check  # exit 1 when the JSON is not what the CSV produces
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "scripts" / "data" / "trve.csv"
OUT = ROOT / "app" / "pricing" / "offers" / "edf_tarif_bleu.json"

OPTIONS = {"BASE": "BASE", "HPHC": "HC_HP", "TEMPO": "TEMPO"}
NAMES = {"BASE": "Tarif Bleu Base", "HC_HP": "Tarif Bleu Heures Creuses", "TEMPO": "Tarif Bleu Tempo"}
LOW_CONFIDENCE = "LOW-CONFIDENCE"


def bucket_name(option: str, bucket: str) -> str:
    """The catalogue's bucket name of a CSV bucket (BASE -> base, HP -> hp, BLUE_HC -> tempo_blue_hc)."""
    return f"tempo_{bucket.lower()}" if option == "TEMPO" else bucket.lower()


def offer_id(option: str, kva: int) -> str:
    return f"edf-{OPTIONS[option].lower()}-{kva}"


def read_rows(path: Path = CSV) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _exclusive(valid_to: str) -> str | None:
    if not valid_to:
        return None
    return (dt.date.fromisoformat(valid_to) + dt.timedelta(days=1)).isoformat()


def build(rows: list[dict[str, str]] | None = None) -> dict[str, Any]:
    periods: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
    for row in read_rows() if rows is None else rows:
        option, kva = row["option"], int(row["power_kva"])
        period = periods.setdefault((option, kva), {}).setdefault(
            row["valid_from"],
            {
                "valid_from": row["valid_from"],
                "valid_to": _exclusive(row["valid_to"]),
                "subscription_eur_month": row["subscription_eur_month_ttc"],
                "prices_eur_kwh": {},
                "sources": [],
            },
        )
        if period["subscription_eur_month"] != row["subscription_eur_month_ttc"]:
            raise ValueError(f"{option} {kva} kVA {row['valid_from']}: two subscriptions in the CSV")
        period["prices_eur_kwh"][bucket_name(option, row["bucket"])] = row["price_eur_kwh_ttc"]
        if row["source"] not in period["sources"]:
            period["sources"].append(row["source"])
    offers = []
    for (option, kva), by_start in sorted(
        periods.items(), key=lambda item: (OPTIONS[item[0][0]], item[0][1])
    ):
        out = []
        for start in sorted(by_start):
            period = by_start[start]
            sources = period.pop("sources")
            period["source"] = " | ".join(sources)
            if any(LOW_CONFIDENCE in s for s in sources):
                period["low_confidence"] = True
            out.append(period)
        offers.append(
            {
                "id": offer_id(option, kva),
                "provider": "EDF",
                "name": NAMES[OPTIONS[option]],
                "option": OPTIONS[option],
                "power_kva": kva,
                "periods": out,
            }
        )
    return {"offers": offers}


def render() -> str:
    return json.dumps(build(), indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        same = OUT.read_text(encoding="utf-8") == text
        if not same:
            print(f"{OUT} is out of date: run python -m scripts.edf_tarif_bleu", file=sys.stderr)
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
