"""Trying models one input at a time: the playground's tasks for local models (no Textual here)."""
