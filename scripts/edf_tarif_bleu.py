"""Writes app/pricing/offers/edf_tarif_bleu.json from the sourced grids below (run after editing them).

Each grid is one EDF Tarif Bleu price grid (TTC): subscription EUR/month per subscribed power and energy
EUR/kWh, with the document it was read from. A power absent from a grid is a figure we could not source:
it is left out, never guessed. Each offer gets the longest run of consecutive grids ending with the
latest one (an offer's periods may not have gaps), so a missing grid hides the older ones of that power
until it is added here.

    python -m scripts.edf_tarif_bleu          # rewrite the JSON
    python -m scripts.edf_tarif_bleu --check  # exit 1 when the JSON is not what this table produces
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "app" / "pricing" / "offers" / "edf_tarif_bleu.json"
GRID_DATES = ("2024-02-01", "2024-08-01", "2025-02-01", "2025-08-01", "2026-02-01", "2026-08-01")

EDF_PDF = "https://particulier.edf.fr/content/dam/2-Actifs/Documents/Offres/Grille_prix_Tarif_Bleu.pdf"
SIMULATOR = "https://github.com/JC144/EDF_Simulateur_Prix"
PROJECT = "the project's shared/integrations.md section 6 (given facts)"
CRE = (
    "CRE open data https://www.cre.fr/fileadmin/Documents/Open_data/Marches_de_detail/Option_Tempo.csv "
    "(data.gouv.fr 'Historique des tarifs reglementes de vente d'electricite')"
)


def _defined(name: str, when: str) -> str:
    return f"a public EDF_Simulateur_Prix tariff file (defineTarif '{name}', lastUpdate {when})"


def _edf(when: str, where: str) -> str:
    return f"EDF Tarif Bleu price grid in force from {when} ({EDF_PDF}), as transcribed in {where}"


@dataclass(frozen=True)
class Grid:
    option: str  # BASE, HC_HP, TEMPO
    valid_from: str
    subscriptions: dict[int, str]  # kVA -> EUR/month TTC
    prices: dict[str, str]  # bucket -> EUR/kWh TTC
    source: str
    prices_by_power: dict[int, dict[str, str]] | None = None  # kVA-specific energy prices


GRIDS: tuple[Grid, ...] = (
    # ---- Base -------------------------------------------------------------------------------------
    Grid(
        "BASE",
        "2024-02-01",
        {
            3: "9.63",
            6: "12.60",
            9: "15.79",
            12: "19.04",
            15: "22.07",
            18: "25.09",
            24: "31.76",
            30: "37.44",
            36: "44.82",
        },
        {"base": "0.2516"},
        _edf("2024-02-01", f"{SIMULATOR} scripts/tarifs/edf/bleu.js (version with 25.16 c/kWh, 6 kVA 12.60)"),
    ),
    Grid(
        "BASE",
        "2024-08-01",
        {
            3: "9.69",
            6: "12.68",
            9: "15.89",
            12: "19.16",
            15: "22.07",
            18: "25.24",
            24: "31.96",
            30: "37.68",
            36: "44.43",
        },
        {"base": "0.2516"},
        _edf(
            "2024-08-01",
            f"{SIMULATOR}/blob/a3113942abecfc57bc02072000967cc14d7c3579/scripts/tarifs/edf/bleu.js",
        ),
    ),
    Grid(
        "BASE",
        "2025-02-01",
        {
            3: "10.41",
            6: "13.72",
            9: "17.27",
            12: "20.86",
            15: "24.20",
            18: "27.39",
            24: "34.68",
            30: "41.99",
            36: "48.39",
        },
        {"base": "0.2016"},
        _edf("2025-02-01", f"{SIMULATOR} scripts/tarifs/edf/bleu.js (lastUpdate 2025-02-01)")
        + f"; 6 and 9 kVA also in {PROJECT}",
    ),
    Grid(
        "BASE",
        "2025-08-01",
        {6: "15.47", 9: "19.39"},
        {"base": "0.1952"},
        f"EDF Tarif Bleu grid in force from 2025-08-01, as tabulated in {PROJECT}; other powers not sourced",
    ),
    Grid(
        "BASE",
        "2026-02-01",
        {
            3: "12.03",
            6: "15.65",
            9: "19.56",
            12: "23.32",
            15: "26.84",
            18: "30.49",
            24: "38.24",
            30: "45.37",
            36: "52.54",
        },
        {"base": "0.1927"},
        _edf(
            "2026-02-01",
            _defined("EDF - Bleu", "2026-02-01"),
        )
        + f"; 6 and 9 kVA also in {PROJECT}",
        prices_by_power={3: {"base": "0.1940"}, 6: {"base": "0.1940"}},
    ),
    Grid(
        "BASE",
        "2026-08-01",
        {
            3: "12.13",
            6: "15.86",
            9: "19.88",
            12: "23.76",
            15: "27.40",
            18: "31.14",
            24: "39.14",
            30: "46.47",
            36: "53.88",
        },
        {"base": "0.1985"},
        _edf(
            "2026-08-01",
            _defined("EDF - Bleu", "2026-08-01"),
        ),
        prices_by_power={3: {"base": "0.2001"}, 6: {"base": "0.2001"}},
    ),
    # ---- Heures creuses ---------------------------------------------------------------------------
    Grid(
        "HC_HP",
        "2024-02-01",
        {
            6: "13.01",
            9: "16.70",
            12: "20.13",
            15: "23.40",
            18: "26.64",
            24: "33.44",
            30: "39.63",
            36: "44.79",
        },
        {"hp": "0.2700", "hc": "0.2068"},
        _edf(
            "2024-02-01",
            f"{SIMULATOR}/blob/aefbccc7c1de4158c2fbe6725397deb276f36ef7/scripts/tarifs/edf/bleuHC.js",
        ),
    ),
    Grid(
        "HC_HP",
        "2024-08-01",
        {
            6: "13.09",
            9: "16.70",
            12: "20.28",
            15: "23.57",
            18: "26.84",
            24: "33.70",
            30: "38.97",
            36: "45.08",
        },
        {"hp": "0.2700", "hc": "0.2068"},
        _edf("2024-08-01", f"{SIMULATOR} scripts/tarifs/edf/bleuHC.js (lastUpdate 2024-11-01)"),
    ),
    Grid(
        "HC_HP",
        "2025-02-01",
        {6: "14.04", 9: "18.01"},
        {"hp": "0.2146", "hc": "0.1696"},
        f"EDF Tarif Bleu grid in force from 2025-02-01, as tabulated in {PROJECT}; other powers not sourced",
    ),
    Grid(
        "HC_HP",
        "2025-08-01",
        {6: "15.74", 9: "19.81"},
        {"hp": "0.2081", "hc": "0.1635"},
        f"EDF Tarif Bleu grid in force from 2025-08-01, as tabulated in {PROJECT}; other powers not sourced",
    ),
    Grid(
        "HC_HP",
        "2026-02-01",
        {
            6: "15.65",
            9: "19.56",
            12: "23.32",
            15: "26.84",
            18: "30.49",
            24: "38.24",
            30: "45.37",
            36: "52.54",
        },
        {"hp": "0.2065", "hc": "0.1579"},
        _edf(
            "2026-02-01",
            _defined("EDF - Bleu Heures Creuses", "2026-02-01"),
        )
        + f"; 6 and 9 kVA also in {PROJECT} (subscription marked 'to confirm' there, confirmed by this grid)",
    ),
    Grid(
        "HC_HP",
        "2026-08-01",
        {
            6: "15.86",
            9: "19.88",
            12: "23.76",
            15: "27.40",
            18: "31.14",
            24: "39.14",
            30: "46.47",
            36: "53.88",
        },
        {"hp": "0.2142", "hc": "0.1589"},
        _edf(
            "2026-08-01",
            _defined("EDF - Bleu Heures Creuses", "2026-08-01"),
        ),
    ),
    # ---- Tempo (no sourced monthly grid for 2024-02-01) -------------------------------------------
    Grid(
        "TEMPO",
        "2024-08-01",
        {6: "13.03", 9: "16.25", 12: "19.56", 15: "22.45", 18: "25.60", 30: "38.53", 36: "44.71"},
        {
            "tempo_blue_hc": "0.1296",
            "tempo_blue_hp": "0.1609",
            "tempo_white_hc": "0.1486",
            "tempo_white_hp": "0.1894",
            "tempo_red_hc": "0.1568",
            "tempo_red_hp": "0.7562",
        },
        _edf(
            "2024-08-01",
            f"{SIMULATOR}/blob/a3113942abecfc57bc02072000967cc14d7c3579/scripts/tarifs/edf/tempo.js",
        )
        + f"; energy prices equal to {CRE}",
    ),
    Grid(
        "TEMPO",
        "2025-02-01",
        {6: "13.97", 9: "17.45"},
        {
            "tempo_blue_hc": "0.1288",
            "tempo_blue_hp": "0.1552",
            "tempo_white_hc": "0.1447",
            "tempo_white_hp": "0.1792",
            "tempo_red_hc": "0.1518",
            "tempo_red_hp": "0.6586",
        },
        f"EDF Tarif Bleu grid in force from 2025-02-01, as tabulated in {PROJECT}; other powers not sourced",
    ),
    Grid(
        "TEMPO",
        "2025-08-01",
        {6: "15.50", 9: "19.49"},
        {
            "tempo_blue_hc": "0.1232",
            "tempo_blue_hp": "0.1494",
            "tempo_white_hc": "0.1391",
            "tempo_white_hp": "0.1730",
            "tempo_red_hc": "0.1460",
            "tempo_red_hp": "0.6468",
        },
        f"EDF Tarif Bleu grid in force from 2025-08-01, as tabulated in {PROJECT}; other powers not sourced",
    ),
    Grid(
        "TEMPO",
        "2026-02-01",
        {6: "15.59", 9: "19.38", 12: "23.07", 15: "26.47", 18: "30.04", 30: "44.73", 36: "52.42"},
        {
            "tempo_blue_hc": "0.1325",
            "tempo_blue_hp": "0.1612",
            "tempo_white_hc": "0.1499",
            "tempo_white_hp": "0.1871",
            "tempo_red_hc": "0.1575",
            "tempo_red_hp": "0.7060",
        },
        _edf(
            "2026-02-01",
            _defined("EDF - Tempo", "2026-02-01"),
        )
        + f"; 6 and 9 kVA also in {PROJECT}",
    ),
    Grid(
        "TEMPO",
        "2026-08-01",
        {6: "15.80", 9: "19.70", 12: "23.50", 15: "27.01", 18: "30.69", 30: "45.82", 36: "53.76"},
        {
            "tempo_blue_hc": "0.1356",
            "tempo_blue_hp": "0.1654",
            "tempo_white_hc": "0.1536",
            "tempo_white_hp": "0.1921",
            "tempo_red_hc": "0.1615",
            "tempo_red_hp": "0.7295",
        },
        _edf(
            "2026-08-01",
            _defined("EDF - Tempo", "2026-08-01"),
        ),
    ),
)

NAMES = {"BASE": "Tarif Bleu Base", "HC_HP": "Tarif Bleu Heures Creuses", "TEMPO": "Tarif Bleu Tempo"}
POWERS = {
    "BASE": (3, 6, 9, 12, 15, 18, 24, 30, 36),
    "HC_HP": (6, 9, 12, 15, 18, 24, 30, 36),
    "TEMPO": (6, 9, 12, 15, 18, 30, 36),
}


def _periods(option: str, kva: int) -> list[dict[str, Any]]:
    grids = sorted((g for g in GRIDS if g.option == option), key=lambda g: g.valid_from)
    run: list[Grid] = []
    for grid in reversed(grids):  # latest first; stop at the first grid without this power
        if kva not in grid.subscriptions:
            break
        run.insert(0, grid)
    out = []
    for index, grid in enumerate(run):
        following = run[index + 1].valid_from if index + 1 < len(run) else None
        prices = (grid.prices_by_power or {}).get(kva, grid.prices)
        out.append(
            {
                "valid_from": grid.valid_from,
                "valid_to": following,
                "subscription_eur_month": grid.subscriptions[kva],
                "prices_eur_kwh": dict(prices),
                "source": grid.source,
            }
        )
    return out


def build() -> dict[str, Any]:
    offers = []
    for option, powers in POWERS.items():
        for kva in powers:
            periods = _periods(option, kva)
            if periods:
                offers.append(
                    {
                        "id": f"edf-{option.lower()}-{kva}",
                        "provider": "EDF",
                        "name": NAMES[option],
                        "option": option,
                        "power_kva": kva,
                        "periods": periods,
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
