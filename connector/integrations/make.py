"""The Make custom app, generated from the catalog (filled in below)."""


def files() -> dict[str, str]:
    return {}
