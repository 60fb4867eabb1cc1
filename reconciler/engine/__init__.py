"""The engine: the one front door every command goes through (see session.py)."""
