"""Fixtures for the local Hub (filled in by the local Hub work)."""
