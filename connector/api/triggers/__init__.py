"""The /triggers resource."""
