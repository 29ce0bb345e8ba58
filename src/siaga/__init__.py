"""Siaga112: the platform behind a city's emergency number 112."""

__version__ = "0.1.0"
