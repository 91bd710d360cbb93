"""Atelier: the Django project and the engine it drives."""
