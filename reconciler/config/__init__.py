"""Loading the YAML workspace into typed Desired registries."""
