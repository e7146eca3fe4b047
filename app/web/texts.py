"""French (default) and English texts of the chart pages; the base texts live in `i18n.py`.

Kept apart from `i18n.py` so that pages added by other modules merge without touching the same lines.
`ui_texts(lang)` is what templates get as `t`: these texts over the base ones.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping

from app.web import i18n

MONTHS: Mapping[str, tuple[str, ...]] = {
    "fr": ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}
WEEKDAYS: Mapping[str, tuple[str, ...]] = {
    "fr": ("L", "M", "M", "J", "V", "S", "D"),
    "en": ("M", "T", "W", "T", "F", "S", "S"),
}

PAGE_TEXTS: Mapping[str, Mapping[str, str]] = {
    "fr": {
        "nav_consumption_kwh": "Consommation (kWh)",
        "nav_consumption_euro": "Consommation (€)",
        "nav_production": "Production",
        "nav_bilan": "Bilan",
        "nav_ecowatt": "EcoWatt",
        "nav_tempo": "Tempo",
        "nav_simulation": "Simulation",
        "nav_exporters": "Exports",
        "menu": "Menu",
        "consumption": "Consommation",
        "production": "Production",
        "usage_point": "Point de livraison",
        "view": "Vue",
        "view_day": "Jour",
        "view_week": "Semaine",
        "view_month": "Mois",
        "view_year": "Année",
        "end_date": "Jusqu'au",
        "previous": "Précédent",
        "next": "Suivant",
        "show": "Afficher",
        "energy_per_period": "Énergie par période",
        "load_curve": "Courbe de charge",
        "curve_day": "Journée",
        "curve_week": "Semaine",
        "curve_date": "Jour choisi",
        "zoom_hint": (
            "Glissez pour zoomer, double-cliquez pour revenir ; cliquez la légende pour masquer une série."
        ),
        "hphc_split": "Heures pleines / heures creuses",
        "hp": "Heures pleines",
        "hc": "Heures creuses",
        "no_offpeak": "Ce contrat n'a pas d'heures creuses : pas de répartition HP/HC.",
        "year_vs_last": "Cette année comparée à l'année dernière",
        "max_power": "Puissance maximale atteinte",
        "max_power_vs_subscribed": "Puissance maximale et puissance souscrite",
        "subscribed_power": "Puissance souscrite",
        "average_power": "Puissance moyenne",
        "total": "Total",
        "download_csv": "Télécharger (CSV)",
        "no_data": "Pas de données pour cette période.",
        "chart_failed": "Graphique indisponible",
        "assets_missing": (
            "Les graphiques ne sont pas construits : lancez « npm ci --prefix frontend && npm run build "
            "--prefix frontend » puis rechargez la page. Les données restent disponibles en CSV."
        ),
        "no_production": "Aucun point de livraison avec production.",
        "production_vs_consumption": "Production et consommation",
        "ecowatt_title": "Signal EcoWatt (RTE)",
        "ecowatt_hourly": "Signal heure par heure",
        "ecowatt_1": "Pas d'alerte",
        "ecowatt_2": "Système tendu",
        "ecowatt_3": "Coupures possibles",
        "ecowatt_none": "Pas encore de signal EcoWatt : il arrive avec la prochaine synchronisation.",
        "today": "Aujourd'hui",
        "tomorrow": "Demain",
        "unknown_yet": "pas encore connu",
        "tempo_title": "Couleurs Tempo",
        "tempo_season": "Saison",
        "tempo_remaining": "Jours restants",
        "tempo_BLUE": "Bleu",
        "tempo_WHITE": "Blanc",
        "tempo_RED": "Rouge",
        "contract": "Contrat",
        "segment": "Segment",
        "distribution_tariff": "Tarif d'acheminement",
        "contract_status": "Statut",
        "meter_type": "Compteur",
        "days": "jours",
        "gaps": "trous",
        "quota_limit": "sur 1 000",
        "pages": "Pages",
        "daily_consumption": "Consommation journalière",
        "curve_consumption": "Courbe de consommation",
        "daily_production": "Production journalière",
        "curve_production": "Courbe de production",
        "max_power_kind": "Puissance max.",
        "syncing_refresh": "Synchronisation en cours : la page se met à jour toute seule.",
        "api_docs": "API JSON",
        "bad_value": "Valeur illisible ignorée",
    },
    "en": {
        "nav_consumption_kwh": "Consumption (kWh)",
        "nav_consumption_euro": "Consumption (€)",
        "nav_production": "Production",
        "nav_bilan": "Balance",
        "nav_ecowatt": "EcoWatt",
        "nav_tempo": "Tempo",
        "nav_simulation": "Simulation",
        "nav_exporters": "Exports",
        "menu": "Menu",
        "consumption": "Consumption",
        "production": "Production",
        "usage_point": "Usage point",
        "view": "View",
        "view_day": "Day",
        "view_week": "Week",
        "view_month": "Month",
        "view_year": "Year",
        "end_date": "Up to",
        "previous": "Previous",
        "next": "Next",
        "show": "Show",
        "energy_per_period": "Energy per period",
        "load_curve": "Load curve",
        "curve_day": "Day",
        "curve_week": "Week",
        "curve_date": "Chosen day",
        "zoom_hint": "Drag to zoom, double-click to reset; click the legend to hide a series.",
        "hphc_split": "Peak / off-peak hours",
        "hp": "Peak hours",
        "hc": "Off-peak hours",
        "no_offpeak": "This contract has no off-peak hours: no peak/off-peak split.",
        "year_vs_last": "This year against last year",
        "max_power": "Highest power reached",
        "max_power_vs_subscribed": "Highest power against subscribed power",
        "subscribed_power": "Subscribed power",
        "average_power": "Average power",
        "total": "Total",
        "download_csv": "Download (CSV)",
        "no_data": "No data for this period.",
        "chart_failed": "Chart unavailable",
        "assets_missing": (
            'Charts are not built: run "npm ci --prefix frontend && npm run build --prefix frontend" and '
            "reload the page. The data stays available as CSV."
        ),
        "no_production": "No usage point with production.",
        "production_vs_consumption": "Production and consumption",
        "ecowatt_title": "EcoWatt signal (RTE)",
        "ecowatt_hourly": "Hour by hour",
        "ecowatt_1": "No alert",
        "ecowatt_2": "Tight grid",
        "ecowatt_3": "Cuts possible",
        "ecowatt_none": "No EcoWatt signal yet: it comes with the next sync.",
        "today": "Today",
        "tomorrow": "Tomorrow",
        "unknown_yet": "not known yet",
        "tempo_title": "Tempo colours",
        "tempo_season": "Season",
        "tempo_remaining": "Days left",
        "tempo_BLUE": "Blue",
        "tempo_WHITE": "White",
        "tempo_RED": "Red",
        "contract": "Contract",
        "segment": "Segment",
        "distribution_tariff": "Distribution tariff",
        "contract_status": "Status",
        "meter_type": "Meter",
        "days": "days",
        "gaps": "gaps",
        "quota_limit": "of 1,000",
        "pages": "Pages",
        "daily_consumption": "Daily consumption",
        "curve_consumption": "Consumption curve",
        "daily_production": "Daily production",
        "curve_production": "Production curve",
        "max_power_kind": "Max power",
        "syncing_refresh": "Sync running: this page updates by itself.",
        "api_docs": "JSON API",
        "bad_value": "Unreadable value ignored",
    },
}


def ui_texts(lang: str) -> Mapping[str, str]:
    return ChainMap(dict(PAGE_TEXTS[lang]), dict(i18n.TEXTS[lang]))


def text(lang: str, key: str) -> str:
    return PAGE_TEXTS[lang].get(key) or i18n.TEXTS[lang].get(key) or key
