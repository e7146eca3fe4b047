"""Home Assistant exporters: MQTT discovery entities and long-term statistics (Energy dashboard)."""

from app.exporters.homeassistant.statistics import HomeAssistantStatisticsExporter

__all__ = ["HomeAssistantStatisticsExporter"]
