"""The HSS HTTP client: credentials, auth (token and AK/SK), error mapping, retries, calls.

Import from the modules (`reconciler.hss.client`, `.transport`, ...): this
package re-exports nothing, so importing one of them loads only what it needs.
"""
