"""Atelier's module SDK and built-in module library (plain Python, no Django)."""
