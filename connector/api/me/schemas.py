"""Schemas of /me."""

import marshmallow as ma


class MeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True, metadata={"description": "The account name: Zapier's connection label."})
    created_at = ma.fields.DateTime(required=True)
