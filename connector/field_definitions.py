"""The catalog rendered for field mapping: Zapier outputFields/inputFields, Make interface/parameters."""

from __future__ import annotations

from typing import Any

from . import catalog

ZAPIER_TYPES = {
    "integer": "integer",
    "number": "number",
    "decimal": "number",
    "string": "string",
    "text": "string",
    "email": "string",
    "datetime": "datetime",
    "boolean": "boolean",
}
MAKE_TYPES = {
    "integer": "uinteger",
    "number": "number",
    "decimal": "number",
    "string": "text",
    "text": "text",
    "email": "email",
    "datetime": "date",
    "boolean": "boolean",
    "object": "collection",
    "array": "array",
}
# Fields whose values the catalog lists, and which list they take.
FIELD_CHOICES = {"event": "event", "role": "role", "status": "status"}


def _label(label: catalog.Label, lang: str) -> str:
    return label.ja if lang == "ja" else label.en


def _sample_value(sample: dict[str, Any] | None, path: tuple[str, ...]) -> Any:
    value: Any = sample
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def zapier_output_fields(trigger: str, sample: dict[str, Any] | None, lang: str = "en") -> list[dict[str, Any]]:
    """Output fields valid under zapier-platform-schema's PlainOutputFieldSchema.

    Nested objects are flattened to `parent__child` keys, as Zapier flattens them.
    """
    fields: list[dict[str, Any]] = []

    def add(f: catalog.Field, path: tuple[str, ...], label_prefix: str) -> None:
        if f.children:
            for child in f.children:
                add(child, (*path, child.key), f"{label_prefix}{_label(f.label, lang)}: ")
            return
        out: dict[str, Any] = {"key": "__".join(path), "label": label_prefix + _label(f.label, lang)}
        if f.type in ZAPIER_TYPES:
            out["type"] = ZAPIER_TYPES[f.type]
        if path == ("event_id",):
            out["primary"] = True
        value = _sample_value(sample, path)
        if value is not None:
            out["sample"] = value
        fields.append(out)

    for f in catalog.trigger_fields(trigger):
        add(f, (f.key,), "")
    return fields


def make_interface(trigger: str, lang: str = "en") -> list[dict[str, Any]]:
    """Make interface entries: name, label, type; options for event, role and status."""

    def entry(f: catalog.Field) -> dict[str, Any]:
        out: dict[str, Any] = {"name": f.key, "label": _label(f.label, lang), "type": MAKE_TYPES[f.type]}
        if f.children:
            out["spec"] = [entry(c) for c in f.children]
        if f.key in FIELD_CHOICES:
            out["options"] = _options(FIELD_CHOICES[f.key], trigger, lang)
        return out

    return [entry(f) for f in catalog.trigger_fields(trigger)]


def _options(kind: str, trigger: str, lang: str) -> list[dict[str, Any]]:
    return [{"label": _label(label, lang), "value": value} for value, label in catalog.choices(kind, trigger).items()]


def zapier_input_fields(trigger: str, lang: str = "en") -> list[dict[str, Any]]:
    """The trigger's filter inputs as Zapier inputFields (all optional)."""
    fields = []
    for key in catalog.TRIGGERS[trigger].filters:
        spec = catalog.FILTER_INPUTS[key]
        out: dict[str, Any] = {
            "key": spec.key,
            "label": _label(spec.label, lang),
            "type": spec.type,
            "required": False,
            "helpText": _label(spec.help, lang),
        }
        if spec.choices:
            out["choices"] = [
                {"value": str(o["value"]), "sample": str(o["value"]), "label": f"{o['value']}: {o['label']}"}
                for o in _options(spec.choices, trigger, lang)
            ]
        if spec.operator == "in":
            out["list"] = True
        fields.append(out)
    return fields


def make_parameters(trigger: str, lang: str = "en") -> list[dict[str, Any]]:
    """The trigger's filter inputs as Make module parameters."""
    params = []
    for key in catalog.TRIGGERS[trigger].filters:
        spec = catalog.FILTER_INPUTS[key]
        out: dict[str, Any] = {"name": spec.key, "label": _label(spec.label, lang), "help": _label(spec.help, lang)}
        if spec.choices:
            out.update(type="select", multiple=True, options=_options(spec.choices, trigger, lang))
        else:
            out["type"] = "text" if spec.type == "string" else "number"
        out["required"] = False
        params.append(out)
    return params


def trigger_summary(trigger: str) -> dict[str, Any]:
    """A trigger as the catalog endpoint lists it."""
    t = catalog.TRIGGERS[trigger]
    return {
        "key": t.key,
        "object": t.object,
        "name": t.name.as_dict(),
        "fires_when": t.fires_when.as_dict(),
        "events": [{"value": e, "label": catalog.EVENT_LABELS[e].as_dict()} for e in t.events],
        "filters": list(t.filters),
    }


def catalog_tables() -> dict[str, Any]:
    """Roles and statuses, labelled in both languages."""
    return {
        "roles": [{"value": v, "label": label.as_dict()} for v, label in catalog.ROLES.items()],
        "statuses": [{"value": v, "label": label.as_dict()} for v, label in catalog.STATUSES.items()],
    }
