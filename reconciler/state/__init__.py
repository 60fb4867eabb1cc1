"""The state file: what hss-reconciler manages, never a secret."""
