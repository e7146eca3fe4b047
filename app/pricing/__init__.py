"""Offers catalogue, tariff rules and the cost engine."""
