"""A schema that documents the known keys of a free-form object and dumps it whole."""

from typing import Any

import marshmallow as ma


class PassThroughSchema(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE

    @ma.post_dump(pass_original=True)
    def _keep_everything(self, data: dict[str, Any], original: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        return dict(original)
