"""Plans, apply results and managed registries as text, markdown and JSON; `formats` picks by name."""
