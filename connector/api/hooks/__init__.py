"""The /hooks resource."""
