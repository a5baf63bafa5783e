"""The report of a wrong verdict (``POST /report/badcase``)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from attrs import define, field

from .. import inputs
from ..errors import InvalidInput
from .common import Request, checked

__all__ = ["BadcaseReport"]

# ContentType: what the sample is.
_TEXT, _IMAGE = 1, 2


@define(frozen=True, slots=True, kw_only=True)
class BadcaseReport(Request):
    """A verdict to correct: the sample as ``text`` (sent base64, ``ContentType`` 1) or as an
    image ``url`` (``ContentType`` 2), the ``label`` given and the one suggested."""

    # The service expects the base64 of the UTF-8 text; the same 10,000-character cap as text
    # moderation applies, since the sample is a text that was moderated.
    text: str | None = field(default=None, validator=checked("Text", inputs.text_content))
    url: str | None = field(default=None, validator=checked("Url", inputs.url))
    label: str = field(validator=checked("Label", inputs.label))
    suggested_label: str = field(validator=checked("SuggestedLabel", inputs.label))
    job_id: str | None = field(default=None, validator=checked("JobId", inputs.job_id))
    moderation_time: datetime | str | None = field(
        default=None, validator=checked("ModerationTime", inputs.moderation_time)
    )

    def __attrs_post_init__(self) -> None:
        inputs.one_source(text=self.text, url=self.url)
        if self.label == self.suggested_label:
            raise InvalidInput("SuggestedLabel", f"is the label the service gave ({self.label!r})")

    def to_body(self) -> dict[str, Any]:
        text, when = self.text, self.moderation_time
        return {
            "ContentType": _TEXT if text is not None else _IMAGE,
            "Text": base64.b64encode(text.encode("utf-8")).decode("ascii")
            if text is not None
            else None,
            "Url": self.url,
            "Label": self.label,
            "SuggestedLabel": self.suggested_label,
            "JobId": self.job_id,
            "ModerationTime": inputs.moderation_time(when) if when is not None else None,
        }
