"""Exporters: one module per target, discovered by the manager."""
