"""Button payloads (bot/views/cards.py): written without a JSON encoder per call, byte for byte
what json.dumps wrote, so buttons already posted in chats still open."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from bot.views.cards import ActionKind, BadPayload, PayloadSigner

KEY = b"a council's key"


def json_signed(kind: ActionKind, briefing_id: int, version: int) -> str:
    body = json.dumps({"a": kind.value, "b": briefing_id, "v": version}, separators=(",", ":"))
    sig = hmac.new(KEY, body.encode(), hashlib.sha256).hexdigest()[:20]
    return json.dumps(
        {"a": kind.value, "b": briefing_id, "v": version, "s": sig}, separators=(",", ":")
    )


@pytest.mark.parametrize("kind", list(ActionKind))
def test_every_kind_is_signed_exactly_as_json_dumps_wrote_it(kind):
    signer = PayloadSigner(KEY)
    for briefing_id, version in ((1, 0), (42, 7), (123456789, 3000)):
        payload = signer.sign(kind, briefing_id, version)
        assert payload == json_signed(kind, briefing_id, version)
        assert signer.open(payload) == (kind, briefing_id, version)


def test_a_boolean_in_place_of_the_briefing_is_refused():
    signer = PayloadSigner(KEY)
    forged = json.loads(signer.sign(ActionKind.ACKNOWLEDGE, 1, 1))
    forged["b"] = True
    with pytest.raises(BadPayload):
        signer.open(json.dumps(forged, separators=(",", ":")))
