"""Every field of every exporter form has a French and an English label and a one-line help."""

from __future__ import annotations

import pytest

from app.exporters.manager import discover

CLASSES, _ = discover()


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_field_has_a_written_label_and_help_in_both_languages(name: str, lang: str) -> None:
    cls = CLASSES[name]
    written = cls.written_texts(lang)
    fields = list(cls.json_schema().get("properties", {}))
    no_label = [k for k in fields if not written.get(k, "").strip()]
    no_help = [k for k in fields if not written.get(f"{k}.help", "").strip()]
    assert not no_label, f"{name} ({lang}): fields without a label: {no_label}"
    assert not no_help, f"{name} ({lang}): fields without a help line: {no_help}"
    assert written.get("description", "").strip(), f"{name} ({lang}): no description"
    ui = cls.ui_texts(lang)
    assert all(ui["labels"][k] == written[k] for k in fields)  # what the form shows


def test_french_and_english_texts_are_not_the_same_table() -> None:
    for cls in CLASSES.values():
        assert cls.written_texts("fr") != cls.written_texts("en"), cls.name
