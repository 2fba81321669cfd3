"""Simplified Chinese input formats with ISO first.

Django writes a date into a form field with the locale's first input format; for
zh-Hans that is ``%Y/%m/%d``, which ``<input type="date">`` rejects, so every
pre-filled date showed empty in Chinese. The other formats are Django's own.
"""

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y年%n月%j日"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S.%f",
    "%Y年%n月%j日 %H:%M",
    "%Y年%n月%j日 %H:%M:%S",
    "%Y年%n月%j日 %H:%M:%S.%f",
]
