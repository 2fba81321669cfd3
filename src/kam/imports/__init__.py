"""Importing spreadsheets and other CRMs' exports: ``kam import KIND FILE``.

``readers`` reads CSV and XLSX files row by row, ``values`` reads dates and
amounts as people type them, ``mapping`` matches columns and values to KAM's
fields, and ``run`` writes the rows through ``kam.sales.actions``. Start at
``kam.imports.run.run_import``.
"""
