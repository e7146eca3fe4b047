"""French (default) and English texts of the web UI, and what to do about each error code."""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"

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


def mqtt_text(state: str, language: str) -> tuple[str, str] | None:
    return MQTT_TEXTS[language].get(state)


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
