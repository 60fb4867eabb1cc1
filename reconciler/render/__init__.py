"""Turning plans and results into text for people (and later markdown, JSON)."""
