"""Home Assistant exporters: MQTT discovery entities and long-term statistics (Energy dashboard)."""

from app.exporters.homeassistant.discovery import HomeAssistantDiscoveryExporter
from app.exporters.homeassistant.statistics import HomeAssistantStatisticsExporter

__all__ = ["HomeAssistantDiscoveryExporter", "HomeAssistantStatisticsExporter"]
