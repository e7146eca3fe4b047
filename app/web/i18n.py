"""Every text of the web UI, in French (the default) and English: one table (`TABLE`), one section per
page or part of a page, and the lookups the templates and the chart builders use.

Sections: `TEXTS` (layout, dashboard, Home Assistant card: every page gets them), `PAGE_TEXTS` (the
chart pages), `COST_TEXTS` (the cost pages' charts), `PRICING_TEXTS` (the cost pages and the offers
form), `EXPORTER_TEXTS` (/exporters), `ERRORS` and `MQTT_TEXTS` (what a problem means and what to do),
`MONTHS` and `WEEKDAYS`. The exporters' own form field texts belong to the exporters
(app/exporters/_field_texts.py), not here.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping

from app.web.context import DEFAULT_LANGUAGE as DEFAULT_LANGUAGE
from app.web.context import LANGUAGES as LANGUAGES

# ------------------------------------------------------------------------------------- every page
TEXTS: Mapping[str, Mapping[str, str]] = {
    "fr": {
        "title": "MyElectricalData",
        "dashboard": "Tableau de bord",
        "usage_points": "Points de livraison",
        "no_usage_points": (
            "Aucun point de livraison pour l'instant : la première synchronisation les ajoutera."
        ),
        "sync_now": "Synchroniser maintenant",
        "sync_started": "Synchronisation lancée.",
        "sync_busy": "Une synchronisation est déjà en cours.",
        "state": "État",
        "next_run": "Prochaine synchronisation",
        "last_run": "Dernière synchronisation",
        "last_success": "Dernière réussite",
        "quota": "Requêtes passerelle aujourd'hui (UTC)",
        "subscribed_power": "Puissance souscrite",
        "pricing_option": "Option tarifaire",
        "offpeak": "Heures creuses",
        "address": "Adresse",
        "coverage": "Données disponibles",
        "daily": "Journalières",
        "curve": "Courbe de charge",
        "production": "Production",
        "progress": "Progression",
        "error": "Erreur",
        "fix": "Que faire",
        "never": "jamais",
        "none": "aucune",
        "phase_idle": "en attente",
        "phase_running": "synchronisation en cours",
        "phase_done": "à jour",
        "phase_quota": "quota atteint",
        "phase_error": "erreur",
        "health_ok": "à jour",
        "health_syncing": "synchronisation en cours",
        "health_waiting": "en attente du quota (reprise après 00:00 UTC)",
        "health_retrying": "nouvel essai à la prochaine synchronisation",
        "health_consent_missing": "consentement Enedis manquant",
        "health_credentials_invalid": "identifiants refusés",
        "health_access_denied": "point de livraison inaccessible",
        "health_error": "erreur : action requise",
        "language": "Langue",
        "demo_banner": "Mode démonstration : données simulées.",
        "account": "Compte",
        "mqtt": "MQTT",
        "mqtt_broker": "Broker",
        "mqtt_source_supervisor": "fourni par Home Assistant",
        "mqtt_source_settings": "configuré",
        "ha_card_title": "Dans Home Assistant",
        "ha_broker": "Broker MQTT",
        "ha_source_supervisor": "fourni par le superviseur",
        "ha_source_options": "options de l'add-on",
        "ha_source_environment": "variables d'environnement",
        "ha_none": "aucun",
        "ha_entities": "Entités publiées",
        "ha_last_publication": "dernière publication le",
        "ha_statistics": "Statistiques importées",
        "ha_not_yet": "pas encore",
        "ha_off": "désactivé",
        "ha_energy_dashboard": "Tableau Énergie",
        "ha_energy_uses": "utilise nos statistiques",
        "ha_energy_not_yet": "n'utilise pas encore nos statistiques",
        "ha_energy_add": "Ajouter au tableau Énergie",
        "ha_energy_remove": "Retirer ce que nous avons ajouté",
        "ha_energy_added_list": "Ajouté au tableau Énergie :",
        "ha_energy_removed_list": "Retiré du tableau Énergie :",
        "ha_energy_nothing": "Rien à changer : tout y est déjà.",
        "ha_energy_failed": "Home Assistant n'a rien changé :",
        "ha_defaults_notice": "Cette version envoie vos données à Home Assistant par défaut "
        "(entités et statistiques). Pour l'arrêter, décochez « Activé » sur la page",
        "ha_exports_page": "Exports",
        "ha_fix_install_mosquitto": "Pour les entités : installez l'add-on « Mosquitto "
        "broker » puis redémarrez cet add-on.",
        "ha_fix_set_mqtt_host": "Pour les entités : donnez MQTT_HOST (et "
        "MQTT_USERNAME / MQTT_PASSWORD) au conteneur.",
        "ha_fix_enable_discovery": "Les entités sont désactivées : activez « Home Assistant "
        "– MQTT discovery » sur la page Exports.",
        "ha_fix_set_ha_url": "Pour les statistiques : donnez HA_URL et HA_TOKEN "
        "(jeton longue durée) au conteneur.",
        "ha_fix_enable_statistics": "Les statistiques sont désactivées : activez-les sur la page Exports.",
        "ha_fix_add_to_energy": "Un clic sur « Ajouter au tableau Énergie » y met vos compteurs.",
    },
    "en": {
        "title": "MyElectricalData",
        "dashboard": "Dashboard",
        "usage_points": "Usage points",
        "no_usage_points": "No usage point yet: the first sync will add them.",
        "sync_now": "Sync now",
        "sync_started": "Sync started.",
        "sync_busy": "A sync is already running.",
        "state": "State",
        "next_run": "Next sync",
        "last_run": "Last sync",
        "last_success": "Last success",
        "quota": "Gateway requests today (UTC)",
        "subscribed_power": "Subscribed power",
        "pricing_option": "Pricing option",
        "offpeak": "Off-peak hours",
        "address": "Address",
        "coverage": "Data available",
        "daily": "Daily",
        "curve": "Load curve",
        "production": "Production",
        "progress": "Progress",
        "error": "Error",
        "fix": "What to do",
        "never": "never",
        "none": "none",
        "phase_idle": "waiting",
        "phase_running": "syncing",
        "phase_done": "up to date",
        "phase_quota": "quota reached",
        "phase_error": "error",
        "health_ok": "up to date",
        "health_syncing": "syncing",
        "health_waiting": "waiting for the quota (resumes after 00:00 UTC)",
        "health_retrying": "asked again at the next sync",
        "health_consent_missing": "Enedis consent missing",
        "health_credentials_invalid": "credentials refused",
        "health_access_denied": "usage point not reachable",
        "health_error": "error: action needed",
        "language": "Language",
        "demo_banner": "Demo mode: simulated data.",
        "account": "Account",
        "mqtt": "MQTT",
        "mqtt_broker": "Broker",
        "mqtt_source_supervisor": "provided by Home Assistant",
        "mqtt_source_settings": "configured",
        "ha_card_title": "In Home Assistant",
        "ha_broker": "MQTT broker",
        "ha_source_supervisor": "given by the supervisor",
        "ha_source_options": "add-on options",
        "ha_source_environment": "environment variables",
        "ha_none": "none",
        "ha_entities": "Entities published",
        "ha_last_publication": "last published on",
        "ha_statistics": "Statistics imported",
        "ha_not_yet": "not yet",
        "ha_off": "switched off",
        "ha_energy_dashboard": "Energy dashboard",
        "ha_energy_uses": "uses our statistics",
        "ha_energy_not_yet": "does not use our statistics yet",
        "ha_energy_add": "Add to the Energy dashboard",
        "ha_energy_remove": "Remove what we added",
        "ha_energy_added_list": "Added to the Energy dashboard:",
        "ha_energy_removed_list": "Removed from the Energy dashboard:",
        "ha_energy_nothing": "Nothing to change: everything is already there.",
        "ha_energy_failed": "Home Assistant changed nothing:",
        "ha_defaults_notice": "This version sends your data to Home Assistant by default "
        "(entities and statistics). To stop it, untick “Enabled” on the page",
        "ha_exports_page": "Exports",
        "ha_fix_install_mosquitto": "For the entities: install the “Mosquitto broker” "
        "add-on, then restart this add-on.",
        "ha_fix_set_mqtt_host": "For the entities: give the container MQTT_HOST "
        "(and MQTT_USERNAME / MQTT_PASSWORD).",
        "ha_fix_enable_discovery": "The entities are switched off: enable “Home Assistant – "
        "MQTT discovery” on the Exports page.",
        "ha_fix_set_ha_url": "For the statistics: give the container HA_URL and "
        "HA_TOKEN (a long-lived token).",
        "ha_fix_enable_statistics": "The statistics are switched off: enable them on the Exports page.",
        "ha_fix_add_to_energy": "One click on “Add to the Energy dashboard” puts your meters there.",
    },
}

# code -> (message, what to do)
ERRORS: Mapping[str, Mapping[str, tuple[str, str]]] = {
    "fr": {
        "invalid_credentials": (
            "La passerelle MyElectricalData refuse les identifiants.",
            "Vérifiez client_id et client_secret dans la configuration (copiez-les depuis votre espace "
            "MyElectricalData), puis redémarrez l'add-on.",
        ),
        "account_inactive": (
            "Le compte MyElectricalData est inactif.",
            "Réactivez le compte sur le site MyElectricalData, puis relancez la synchronisation.",
        ),
        "quota_reached": (
            "Quota journalier de la passerelle atteint.",
            "Rien à faire : la synchronisation reprend automatiquement après 00:00 UTC.",
        ),
        "rate_limit_transient": (
            "Le limiteur de la passerelle a refusé des requêtes alors que le quota du jour n'était "
            "pas atteint.",
            "Rien à faire : la prochaine synchronisation redemande ces jours.",
        ),
        "gateway_unreachable": (
            "La passerelle MyElectricalData ne répond pas.",
            "Vérifiez la connexion Internet et l'URL de la passerelle ; un nouvel essai est programmé.",
        ),
        "access_denied": (
            "Ce point de livraison n'est pas accessible avec ce compte.",
            "Vérifiez le numéro de PDL (14 chiffres) et qu'il est bien rattaché à votre compte "
            "MyElectricalData.",
        ),
        "no_consent": (
            "Enedis ne trouve pas de consentement pour ce point de livraison.",
            "Renouvelez votre consentement sur le site MyElectricalData.",
        ),
        "load_curve_disabled": (
            "La collecte de la courbe de charge n'est pas activée chez Enedis.",
            "Activez « l'enregistrement de la consommation horaire » dans votre espace client Enedis ; les "
            "données journalières continuent d'être synchronisées.",
        ),
        "no_production": (
            "Ce point de livraison n'a pas de production.",
            "Rien à faire : la production n'est plus demandée pour ce point.",
        ),
        "before_activation": (
            "Pas de données avant la mise en service du compteur.",
            "Rien à faire : seules les dates après la mise en service sont demandées.",
        ),
        "enedis_unavailable": (
            "Les services Enedis sont indisponibles.",
            "Rien à faire : un nouvel essai est programmé.",
        ),
        "enedis_error": (
            "Enedis a refusé la demande.",
            "Consultez le journal de l'add-on pour le code Enedis.",
        ),
        "malformed_response": (
            "La passerelle a envoyé une réponse illisible.",
            "Rien n'a été perdu ; la demande sera refaite à la prochaine synchronisation.",
        ),
        "date_too_old": (
            "Date trop ancienne pour Enedis.",
            "Rien à faire : l'historique disponible est limité (3 ans en journalier, 2 ans en courbe).",
        ),
        "invalid_request": (
            "La passerelle a refusé une demande.",
            "Signalez-le avec le journal de l'add-on.",
        ),
        "no_data": ("Pas de données pour cette période.", "Rien à faire."),
        "not_configured": (
            "Identifiants de la passerelle manquants.",
            "Renseignez client_id et client_secret (configuration de l'add-on, ou CLIENT_ID et "
            "CLIENT_SECRET en Docker).",
        ),
        "config_error": (
            "Configuration invalide.",
            "Corrigez la valeur indiquée dans la configuration puis redémarrez ; rien de ce qui est stocké "
            "n'a été modifié.",
        ),
        "storage_error": (
            "Impossible d'ouvrir la base de données.",
            "Vérifiez DATABASE_URL et que le serveur de base de données est joignable.",
        ),
        "gateway_error": ("Erreur de la passerelle.", "Consultez le journal de l'add-on."),
    },
    "en": {
        "invalid_credentials": (
            "The MyElectricalData gateway refuses the credentials.",
            "Check client_id and client_secret in the configuration (copy them from your MyElectricalData "
            "account), then restart the add-on.",
        ),
        "account_inactive": (
            "The MyElectricalData account is inactive.",
            "Reactivate it on the MyElectricalData site, then sync again.",
        ),
        "quota_reached": (
            "The gateway's daily quota is reached.",
            "Nothing to do: the sync resumes by itself after 00:00 UTC.",
        ),
        "rate_limit_transient": (
            "The gateway's limiter refused requests although today's quota was not used up.",
            "Nothing to do: the next sync asks for those days again.",
        ),
        "gateway_unreachable": (
            "The MyElectricalData gateway does not answer.",
            "Check the Internet connection and the gateway URL; a retry is scheduled.",
        ),
        "access_denied": (
            "This usage point cannot be reached with this account.",
            "Check the usage point number (14 digits) and that it belongs to your MyElectricalData account.",
        ),
        "no_consent": (
            "Enedis finds no consent for this usage point.",
            "Renew your consent on the MyElectricalData site.",
        ),
        "load_curve_disabled": (
            "Load-curve collection is not enabled at Enedis.",
            "Enable hourly consumption recording in your Enedis customer space; daily data keeps syncing.",
        ),
        "no_production": (
            "This usage point has no production.",
            "Nothing to do: production is no longer asked for this point.",
        ),
        "before_activation": (
            "No data before the meter's activation.",
            "Nothing to do: only dates after activation are asked.",
        ),
        "enedis_unavailable": ("Enedis services are unavailable.", "Nothing to do: a retry is scheduled."),
        "enedis_error": ("Enedis refused the request.", "See the add-on log for the Enedis code."),
        "malformed_response": (
            "The gateway sent an unreadable answer.",
            "Nothing was lost; the request is made again at the next sync.",
        ),
        "date_too_old": (
            "Date too old for Enedis.",
            "Nothing to do: history is limited (3 years daily, 2 years load curve).",
        ),
        "invalid_request": ("The gateway refused a request.", "Report it with the add-on log."),
        "no_data": ("No data for this period.", "Nothing to do."),
        "not_configured": (
            "Gateway credentials are missing.",
            "Set client_id and client_secret (add-on configuration, or CLIENT_ID and CLIENT_SECRET in "
            "Docker).",
        ),
        "config_error": (
            "Invalid configuration.",
            "Fix the value named here in the configuration and restart; nothing stored was changed.",
        ),
        "storage_error": (
            "The database cannot be opened.",
            "Check DATABASE_URL and that the database server is reachable.",
        ),
        "gateway_error": ("Gateway error.", "See the add-on log."),
    },
}

# MQTT broker states (app/addon.py MqttState) -> (what it means, what to do)
MQTT_TEXTS: Mapping[str, Mapping[str, tuple[str, str]]] = {
    "fr": {
        "not_configured": (
            "Aucun broker MQTT configuré.",
            "Facultatif : renseignez MQTT_HOST (et MQTT_USERNAME, MQTT_PASSWORD) pour publier vers MQTT.",
        ),
        "no_broker": (
            "Aucun broker MQTT n'est installé dans Home Assistant.",
            "Installez l'add-on « Mosquitto broker » (ou renseignez mqtt_host dans la configuration), "
            "puis redémarrez cet add-on. Le reste fonctionne sans MQTT.",
        ),
        "supervisor_error": (
            "Le superviseur n'a pas répondu à la recherche du broker MQTT.",
            "Rien à faire : un nouvel essai est programmé. Si cela dure, redémarrez l'add-on.",
        ),
        "checking": ("Connexion au broker MQTT en cours.", "Rien à faire."),
        "connected": ("Connecté au broker MQTT.", "Rien à faire."),
        "auth_failed": (
            "Le broker MQTT refuse l'utilisateur ou le mot de passe.",
            "Vérifiez mqtt_username et mqtt_password (ou laissez-les vides pour utiliser le broker "
            "fourni par Home Assistant), puis redémarrez.",
        ),
        "unreachable": (
            "Le broker MQTT ne répond pas.",
            "Vérifiez l'hôte, le port et TLS du broker ; un nouvel essai est programmé.",
        ),
    },
    "en": {
        "not_configured": (
            "No MQTT broker configured.",
            "Optional: set MQTT_HOST (and MQTT_USERNAME, MQTT_PASSWORD) to publish to MQTT.",
        ),
        "no_broker": (
            "No MQTT broker is installed in Home Assistant.",
            'Install the "Mosquitto broker" add-on (or set mqtt_host in the configuration), then restart '
            "this add-on. Everything else works without MQTT.",
        ),
        "supervisor_error": (
            "The supervisor did not answer the MQTT broker lookup.",
            "Nothing to do: a retry is scheduled. If it lasts, restart the add-on.",
        ),
        "checking": ("Connecting to the MQTT broker.", "Nothing to do."),
        "connected": ("Connected to the MQTT broker.", "Nothing to do."),
        "auth_failed": (
            "The MQTT broker refuses the user name or password.",
            "Check mqtt_username and mqtt_password (or leave them empty to use the broker Home Assistant "
            "provides), then restart.",
        ),
        "unreachable": (
            "The MQTT broker does not answer.",
            "Check the broker's host, port and TLS; a retry is scheduled.",
        ),
    },
}

# The /exporters page (issue 5).
EXPORTER_TEXTS: Mapping[str, Mapping[str, str]] = {
    "fr": {
        "exporters": "Exports",
        "exporters_intro": (
            "Chaque export envoie les données stockées vers un autre outil après chaque synchronisation."
        ),
        "enabled": "Activé",
        "disabled": "Désactivé",
        "connected": "Connecté",
        "not_connected": "Non connecté",
        "last_export": "Dernier export réussi",
        "last_exported": "Dernières données envoyées",
        "last_error": "Dernière erreur",
        "next_retry": "Prochain essai",
        "save": "Enregistrer",
        "test_connection": "Tester la connexion",
        "export_now": "Exporter maintenant",
        "saved": "Réglages enregistrés.",
        "test_ok": "Connexion réussie",
        "test_failed": "Échec de la connexion",
        "export_done": "Export terminé",
        "export_failed": "Échec de l'export",
        "invalid_settings": "Réglages invalides",
        "secret_set": "déjà renseigné : laisser vide pour le conserver",
        "secret_unset": "non renseigné",
        "secret_clear": "effacer",
        "secret_pinned": "Il n'est envoyé qu'à l'adresse enregistrée : si vous changez l'adresse, l'hôte, "
        "le port ou le mode, retapez-le, sinon il est effacé.",
        "secret_dropped": "Adresse changée : le secret enregistré ({fields}) n'a pas été réutilisé ; "
        "retapez-le pour cette nouvelle adresse.",
        "discovery_error": "Export impossible à charger",
        "metrics_disabled": "L'export Prometheus est désactivé : activez-le sur la page Exports.",
    },
    "en": {
        "exporters": "Exports",
        "exporters_intro": "Each exporter sends the stored data to another tool after every sync.",
        "enabled": "Enabled",
        "disabled": "Disabled",
        "connected": "Connected",
        "not_connected": "Not connected",
        "last_export": "Last successful export",
        "last_exported": "Newest data sent",
        "last_error": "Last error",
        "next_retry": "Next attempt",
        "save": "Save",
        "test_connection": "Test connection",
        "export_now": "Export now",
        "saved": "Settings saved.",
        "test_ok": "Connection succeeded",
        "test_failed": "Connection failed",
        "export_done": "Export done",
        "export_failed": "Export failed",
        "invalid_settings": "Invalid settings",
        "secret_set": "already set: leave empty to keep it",
        "secret_unset": "not set",
        "secret_clear": "clear",
        "secret_pinned": "It is only sent to the saved address: if you change the address, host, port or "
        "mode, type it again, otherwise it is dropped.",
        "secret_dropped": "Address changed: the saved secret ({fields}) was not reused; type it again for "
        "the new address.",
        "discovery_error": "Exporter cannot be loaded",
        "metrics_disabled": "The Prometheus exporter is disabled: enable it on the Exports page.",
    },
}

# ------------------------------------------------------------------------------------- chart pages
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
        "ecowatt_0": "Production décarbonée",
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
        "tempo_forecast": "Prévision des prochains jours",
        "tempo_forecast_none": "Pas encore de prévision : elle est relevée toutes les 4 heures.",
        "tempo_forecast_day": "Jour",
        "tempo_most_likely": "Couleur la plus probable",
        "probability": "Probabilité",
        "tempo_forecast_fetched": "Relevée le",
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
        "option_BASE": "Base",
        "option_HC_HP": "Heures pleines / Heures creuses",
        "option_HC_WEEKEND": "Heures creuses + week-end",
        "option_TEMPO": "Tempo",
        "option_EJP": "EJP",
        "option_SEASONAL": "Saisonnier (hiver / été)",
        "option_UNKNOWN": "Inconnue",
        "contract_status_SERVC": "en service",
        "contract_status_RESIL": "résilié",
        "meter_type_AMM": "compteur communicant (Linky)",
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
        "ecowatt_0": "Low-carbon production",
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
        "tempo_forecast": "Forecast for the coming days",
        "tempo_forecast_none": "No forecast yet: it is fetched every 4 hours.",
        "tempo_forecast_day": "Day",
        "tempo_most_likely": "Most likely colour",
        "probability": "Probability",
        "tempo_forecast_fetched": "Fetched",
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
        "option_BASE": "Base",
        "option_HC_HP": "Peak / off-peak hours",
        "option_HC_WEEKEND": "Off-peak hours + weekend",
        "option_TEMPO": "Tempo",
        "option_EJP": "EJP",
        "option_SEASONAL": "Seasonal (winter / summer)",
        "option_UNKNOWN": "Unknown",
        "contract_status_SERVC": "in service",
        "contract_status_RESIL": "terminated",
        "meter_type_AMM": "smart meter (Linky)",
    },
}

# ------------------------------------------------------------------------------- cost pages' charts
COST_TEXTS: Mapping[str, Mapping[str, str]] = {
    "fr": {
        "subscription": "Abonnement",
        "surplus": "Surplus",
        "self_consumed": "Autoconsommée",
        "without_curve": "Production sans courbe de charge",
        "self_rate": "Taux d'autoconsommation",
        "hc_share": "Part HC",
        "other_offers": "Autres offres",
        "current_offer": "Offre actuelle",
        "current_is_best": "Offre actuelle (la moins chère)",
        "best_offer": "Offre la moins chère",
        "cost_per_period": "Coût par période et par poste tarifaire",
        "offers_ranking": "Coût sur 12 mois de chaque offre",
        "current_vs_best": "Mois par mois : offre actuelle et offre la moins chère",
        "bilan_energy": "Consommation et production",
        "bilan_shares": "Part des heures creuses et autoconsommation",
        "bilan_years": "Consommation d'une année sur l'autre",
        "bucket_base": "Base",
        "bucket_hp": "Heures pleines",
        "bucket_hc": "Heures creuses",
        "bucket_winter": "Hiver",
        "bucket_summer": "Été",
        "bucket_unsplit": "Non réparti (relevé journalier)",
        "bucket_tempo_blue_hp": "Tempo bleu HP",
        "bucket_tempo_blue_hc": "Tempo bleu HC",
        "bucket_tempo_white_hp": "Tempo blanc HP",
        "bucket_tempo_white_hc": "Tempo blanc HC",
        "bucket_tempo_red_hp": "Tempo rouge HP",
        "bucket_tempo_red_hc": "Tempo rouge HC",
    },
    "en": {
        "subscription": "Subscription",
        "surplus": "Surplus",
        "self_consumed": "Self-consumed",
        "without_curve": "Production without load curve",
        "self_rate": "Self-consumption rate",
        "hc_share": "Off-peak share",
        "other_offers": "Other offers",
        "current_offer": "Current offer",
        "current_is_best": "Current offer (the cheapest)",
        "best_offer": "Cheapest offer",
        "cost_per_period": "Cost per period and per tariff bucket",
        "offers_ranking": "12-month cost of every offer",
        "current_vs_best": "Month by month: current offer and cheapest offer",
        "bilan_energy": "Consumption and production",
        "bilan_shares": "Off-peak share and self-consumption",
        "bilan_years": "Consumption year over year",
        "bucket_base": "Base",
        "bucket_hp": "Peak hours",
        "bucket_hc": "Off-peak hours",
        "bucket_winter": "Winter",
        "bucket_summer": "Summer",
        "bucket_unsplit": "Unsplit (daily reading)",
        "bucket_tempo_blue_hp": "Tempo blue peak",
        "bucket_tempo_blue_hc": "Tempo blue off-peak",
        "bucket_tempo_white_hp": "Tempo white peak",
        "bucket_tempo_white_hc": "Tempo white off-peak",
        "bucket_tempo_red_hp": "Tempo red peak",
        "bucket_tempo_red_hc": "Tempo red off-peak",
    },
}

# ---------------------------------------------------------------- cost pages and the offers form
PRICING_TEXTS: Mapping[str, Mapping[str, str]] = {
    "fr": {
        "consumption_euro": "Consommation en euros",
        "simulation": "Simulation d'offres",
        "bilan": "Bilan",
        "offers": "Offres et tarifs",
        "period": "Période",
        "energy": "Énergie",
        "total": "Total",
        "bucket": "Poste",
        "rank": "Rang",
        "offer": "Offre",
        "saving": "Économie vs offre actuelle",
        "next_power": "Et à la puissance supérieure",
        "gaps": "Courbe de charge incomplète : {curve} jours sur {expected}. Résultats partiels.",
        "estimated": "{n} jour(s) sans courbe : prix exact seulement en offre à prix unique.",
        "no_data": "Pas encore de données pour ce point de livraison.",
        "choose": "Offre choisie",
        "save": "Enregistrer",
        "offpeak_override": "Heures creuses (ex. 22:00-06:00, 12:00-14:00)",
        "user_offer": "Ajouter ou remplacer une offre (JSON)",
        "saved": "Enregistré.",
        "year": "Année",
        "consumption": "Consommation",
        "production": "Production",
        "yoy": "Évolution (mêmes jours qu’un an plus tôt)",
        "sources": "Sources des prix",
        "low_confidence": "à confirmer : transcription douteuse (voir la source)",
        "day": "jour",
        "month": "mois",
        "ejp_days": "Jours EJP (jours de pointe mobile, AAAA-MM-JJ, séparés par des virgules)",
        "timeline": "Historique du contrat",
        "timeline_help": "Une période par ligne : date de début (AAAA-MM-JJ, « - » pour la première), "
        "option (BASE, HC_HP, HC_WEEKEND, TEMPO, EJP), puissance (kVA), heures creuses. "
        "Ex. : 2025-03-01 TEMPO 9",
        "ejp_days_unknown": "Jours EJP inconnus (hiver {seasons}) : les heures de pointe mobile sont "
        "comptées au prix normal. Saisissez les jours EJP dans « Offres et tarifs ».",
    },
    "en": {
        "consumption_euro": "Consumption in euros",
        "simulation": "Offer simulation",
        "bilan": "Summary",
        "offers": "Offers and prices",
        "period": "Period",
        "energy": "Energy",
        "total": "Total",
        "bucket": "Bucket",
        "rank": "Rank",
        "offer": "Offer",
        "saving": "Saving vs current offer",
        "next_power": "And at the next power up",
        "gaps": "The load curve has gaps: {curve} days out of {expected}. Results are incomplete.",
        "estimated": "{n} day(s) without curve: exact price only under a single-price offer.",
        "no_data": "No data yet for this usage point.",
        "choose": "Chosen offer",
        "save": "Save",
        "offpeak_override": "Off-peak hours (e.g. 22:00-06:00, 12:00-14:00)",
        "user_offer": "Add or override an offer (JSON)",
        "saved": "Saved.",
        "year": "Year",
        "consumption": "Consumption",
        "production": "Production",
        "yoy": "Change (same days a year before)",
        "sources": "Price sources",
        "low_confidence": "to be confirmed: doubtful transcription (see the source)",
        "day": "day",
        "month": "month",
        "ejp_days": "EJP days (peak days, YYYY-MM-DD, comma separated)",
        "timeline": "Contract history",
        "timeline_help": "One period a line: start date (YYYY-MM-DD, '-' for the first one), option "
        "(BASE, HC_HP, HC_WEEKEND, TEMPO, EJP), power (kVA), off-peak hours. E.g. 2025-03-01 TEMPO 9",
        "ejp_days_unknown": "EJP days unknown (winter {seasons}): peak hours are priced at the normal price. "
        "Enter the EJP days under “Offers and prices”.",
    },
}

Section = Mapping[str, Mapping[str, str]] | Mapping[str, Mapping[str, tuple[str, str]]]
TABLE: Mapping[str, Section | Mapping[str, tuple[str, ...]]] = {
    "common": TEXTS,
    "errors": ERRORS,
    "mqtt": MQTT_TEXTS,
    "exporters_page": EXPORTER_TEXTS,
    "months": MONTHS,
    "weekdays": WEEKDAYS,
    "chart_pages": PAGE_TEXTS,
    "cost_charts": COST_TEXTS,
    "pricing_pages": PRICING_TEXTS,
}


# ------------------------------------------------------------------------------------- lookups
def pick_language(query: str | None, accept_language: str | None) -> str:
    """`?lang=` first, then the browser's Accept-Language, then French."""
    if query in LANGUAGES:
        return query
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT_LANGUAGE


def error_text(code: str | None, language: str) -> tuple[str, str] | None:
    if code is None:
        return None
    table = ERRORS[language]
    return table.get(code) or table["gateway_error"]


def mqtt_text(state: str, language: str) -> tuple[str, str] | None:
    return MQTT_TEXTS[language].get(state)


def ui_texts(lang: str) -> Mapping[str, str]:
    """What templates get as `t`: the chart pages' texts over the common ones."""
    return ChainMap(dict(PAGE_TEXTS[lang]), dict(TEXTS[lang]))


def text(lang: str, key: str) -> str:
    """A chart page's or common text; an unknown key is shown as it is."""
    return PAGE_TEXTS[lang].get(key) or TEXTS[lang].get(key) or key


def cost_text(lang: str, key: str) -> str:
    return COST_TEXTS[lang].get(key) or text(lang, key)


def bucket_name(lang: str, bucket: str) -> str:
    """A tariff bucket's name (hc, tempo_blue_hp...); `bucket_<name>` when it has none."""
    return cost_text(lang, f"bucket_{bucket}")


def pricing_texts(lang: str) -> Mapping[str, str]:
    """What the cost pages and the offers form get as `t`."""
    return ChainMap(dict(PRICING_TEXTS[lang]), dict(COST_TEXTS[lang]), dict(ui_texts(lang)))


def exporter_texts(lang: str) -> dict[str, str]:
    """What the /exporters page gets as `t`."""
    return {**TEXTS[lang], **EXPORTER_TEXTS[lang]}
