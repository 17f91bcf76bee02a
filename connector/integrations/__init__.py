"""The Zapier and Make apps' files, generated from the catalog so they never drift from it."""
