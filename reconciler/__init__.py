"""hss-reconciler: HSS image-registry access, declared in YAML, planned and applied."""

__version__ = "0.1.0"
