"""Drawing cards reuses what depends only on the language (issue 15), never across languages."""

from __future__ import annotations

import pytest

from bot.i18n.catalogue import languages
from bot.views.bilingual import speaking
from bot.views.cards import ActionKind
from bot.views.renderer import button


def test_button_inputs_are_worded_once_per_language_and_not_shared_between_them():
    with speaking("en"):
        english = button(ActionKind.LOG_BRIEFING).inputs
        assert button(ActionKind.LOG_BRIEFING).inputs is english  # worded once
    with speaking("cy"):
        welsh = button(ActionKind.LOG_BRIEFING).inputs
    assert [i.name for i in welsh] == [i.name for i in english]
    assert [i.label for i in welsh] != [i.label for i in english]
    assert english[0].label == "When did you brief them?"


def test_a_bad_language_setting_is_refused_every_time():
    assert languages("cy+en") == ("cy", "en")
    for _ in range(2):  # the cache keeps answers, not refusals
        with pytest.raises(ValueError):
            languages("fr")
