"""The /me resource."""
