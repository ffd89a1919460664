"""Vigie's domain: settings, models and the operations on them."""
