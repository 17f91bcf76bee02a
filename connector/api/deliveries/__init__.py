"""The /deliveries resource: the delivery log."""
