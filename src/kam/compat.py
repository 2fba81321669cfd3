"""Work-arounds for the framework, each with the reason and when it can go.

``single_column_tuple_in``: Django 5.2 prefetches over a forward foreign key with
``TupleIn`` (ticket #36116, pull request 19072), which a backend without row
values, SQLite among them, compiles as ``id = 1 OR id = 2 OR ...``: past about
1,000 related rows SQLite refuses it ("Expression tree is too large (maximum
depth 1000)"), e.g. the contacts of a few hundred deals' buying centers. A
single-column ``TupleIn`` with plain values means ``col IN (...)``, a flat
expression whatever its length, so it is compiled as that. Remove once Django
compiles it so itself (tests/test_compat.py fails then on nothing: keep it as
the guard).
"""

from django.core.exceptions import EmptyResultSet
from django.db.models.lookups import In


def single_column_tuple_in() -> None:
    try:
        from django.db.models.fields.tuple_lookups import TupleIn
    except ImportError:  # a Django without tuple lookups
        return
    if getattr(TupleIn.get_fallback_sql, "kam_single_column", False):
        return
    fallback = TupleIn.get_fallback_sql

    def get_fallback_sql(self, compiler, connection):
        columns = list(self.lhs) if hasattr(self.lhs, "__iter__") else [self.lhs]
        if len(columns) == 1 and self.rhs_is_direct_value():
            values = [vals[0] for vals in self.rhs if vals[0] is not None]
            if not values:
                raise EmptyResultSet
            return compiler.compile(In(columns[0], values))
        return fallback(self, compiler, connection)

    get_fallback_sql.kam_single_column = True
    TupleIn.get_fallback_sql = get_fallback_sql
