"""Code generated from the schemas by tools/generate_validators.py; edit the schema, then regenerate.

Nothing here imports fastjsonschema or jsonschema: these modules are on the
start-up path of every command that reads a workspace.
"""
