"""Exporting what a user may see as CSV or XLSX: ``kam export KIND`` and the
download buttons of the list pages.

Two steps, each usable alone:

- ``kam.exports.rows.export_rows(kind, user, filters)`` gives the rows, as
  dicts keyed by KAM's field names, of the records of ``kind`` the user may see
  (``kam.org.scoping.visible``), narrowed by the list filters;
- ``kam.exports.files.write_csv(rows, stream)``, ``csv_lines(rows)`` (for a
  streaming response) and ``write_xlsx(rows, path_or_stream)`` write them, with
  every cell a spreadsheet would run as a formula neutralised.

A list page's download button is three lines::

    from kam.exports.files import CSV_CONTENT_TYPE, csv_lines
    from kam.exports.rows import export_rows

    rows = export_rows("opportunities", request.user, request.GET)
    return StreamingHttpResponse(csv_lines(rows, bom=True), content_type=CSV_CONTENT_TYPE)
"""
