"""The method of industrial key-account selling (METHOD.md), as pure Python.

This package never imports Django: the application hands it plain records
(``kam.method.types``) and shows what it returns. Each module is one part of
METHOD.md; each has a frozen settings dataclass whose defaults are the method's
defaults, and ``kam.method.settings.MethodSettings`` gathers them.
"""
