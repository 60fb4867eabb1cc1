"""The command line: parse, call one engine function, render, return an exit code."""
