"""The Zapier app's static copy of the catalog: one REST-hook trigger per catalog trigger."""

from __future__ import annotations

from typing import Any

from .. import catalog, field_definitions
from ..services import samples
from .files import dump

DIR = "integrations/zapier"


def trigger_definition(key: str) -> dict[str, Any]:
    """What integrations/zapier/triggers.js needs to build one trigger, as data."""
    trigger = catalog.TRIGGERS[key]
    sample = samples.canned(key)[0]
    fires_when = trigger.fires_when.en
    return {
        "key": key,
        "noun": trigger.object.replace("_", " ").title().replace("Email", "E-mail"),
        "label": trigger.name.en,
        "description": f"Triggers when {fires_when[0].lower()}{fires_when[1:]}",
        "inputFields": field_definitions.zapier_input_fields(key),
        "outputFields": field_definitions.zapier_output_fields(key, sample),
        "sample": sample,
    }


def files() -> dict[str, str]:
    return {f"{DIR}/generated/triggers.json": dump([trigger_definition(key) for key in catalog.TRIGGERS])}
