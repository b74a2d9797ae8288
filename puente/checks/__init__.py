"""Content checks beyond links and front matter: the things no other generator catches.

Each module holds one concern and exposes checks with the signature of `puente.check.CHECKS`:
`(site, rendered, seeds) -> iterable of Diagnostic`.
"""
