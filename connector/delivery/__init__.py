"""The delivery engine: signing, retry policy, HTTP transport and dispatch."""
