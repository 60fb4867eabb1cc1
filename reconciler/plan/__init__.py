"""Diffing Desired, State and Live into an ordered Plan of Changes."""
