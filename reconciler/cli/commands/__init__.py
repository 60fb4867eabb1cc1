"""One module per command, each a `run(args, out) -> int`."""
