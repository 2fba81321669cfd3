from pathlib import Path

import polib

import kam

LOCALE = Path(kam.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_every_chinese_message_is_translated():
    po = polib.pofile(LOCALE / "django.po")
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []


def test_the_committed_mo_file_matches_the_po_file():
    """The .mo is committed so users need no gettext; it must be rebuilt with `make messages`."""
    po = {e.msgid: e.msgstr for e in polib.pofile(LOCALE / "django.po") if e.msgid}
    mo = {e.msgid: e.msgstr for e in polib.mofile(LOCALE / "django.mo") if e.msgid}
    assert mo == po
