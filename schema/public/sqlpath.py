"""The SQL path for public reads: a compiled plan (schema/public/fastpath.py) turned into one SQL
statement that builds the answer's JSON text in the database (docs/public-queries.md).

For a request whose plan it covers, the statement selects one text column per root field —
a connection (page, cursors, page info, total) or a `node(id:)` — each the exact JSON that the
fast path would serialise: keys in response order, only the selected fields, leaves copied as
JSON text out of the snapshot rows, relations as correlated subqueries under the current-row
rule. Python writes that text into the response as it is: no row is parsed, nothing is
projected in Python.

It reads `disclosure` only (invariant 1), with the same WHERE clauses as the list resolvers
(`queries.SPECS`, `pagination.page_query`). Whatever it does not cover raises `Fallback` and the
request goes on to the fast path, then graphql-core: correction notices (their own table),
statistics, a field whose completion could raise an error (an abstract type below the root, a
list of nullable objects), arguments the list readers refuse (bad page sizes, forged cursors —
graphql-core reports those errors).

PostgreSQL builds the text from `jsonb` (`->`, `::text`, `string_agg`); SQLite from its JSON
functions (`->`, `json_each`, `group_concat`) and `gk_b64url`, a function registered on its
connection (SQLite has no base64). Both give the JSON escaping orjson gives.
"""

# Every value that reaches the SQL is a parameter; the text is built from the schema (field
# names, GraphQL type names, record types) and the fixed fragments of schema/rows.py.
# ruff: noqa: S608

from __future__ import annotations

import base64
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import get_argument_values
from graphql.execution.values import VariableValues
from strawberry.types.arguments import convert_arguments
from tortoise import connections
from tortoise.backends.asyncpg.client import AsyncpgDBClient

from schema import pagination, rows
from schema.context import Context
from schema.pagination import PageRequest, count_sql, page_query
from schema.public import queries
from schema.public.fastpath import (
    CHILDREN,
    COUNT,
    ENUM,
    EXACT,
    FIRST_CHILD,
    GET,
    INT,
    ITEM,
    LOAD,
    OBJECT,
    OBJECTS,
    PASS,
    RECORD,
    ROOT_LIST,
    ROOT_NODE,
    TYPENAME,
    URL,
    Compiled,
    Fallback,
    FastPath,
    FieldPlan,
    ObjectPlan,
    Out,
    Plan,
    RootField,
)
from storage.enums import RecordType


class Unsupported(Exception):
    """The plan has a shape this compiler does not cover: the fast path answers."""


#: A parameter placeholder: the request's public base URL (for `manifestUrl` and the like).
BASE_URL = object()


@dataclass
class Sql:
    """SQL text with its `?` parameters in order of appearance."""

    text: str = ""
    params: list[Any] = field(default_factory=list)

    def __iadd__(self, other: Sql | str) -> Sql:
        if isinstance(other, str):
            self.text += other
        else:
            self.text += other.text
            self.params.extend(other.params)
        return self


def _cat(*pieces: Sql | str) -> Sql:
    out = Sql()
    for piece in pieces:
        out += piece
    return out


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# -- the two dialects ------------------------------------------------------------------------


class Dialect:
    """How each database reads JSON out of a snapshot row and writes JSON text."""

    def json(self, base: str, path: Sequence[str]) -> str:
        raise NotImplementedError

    def leaf(self, base: str, path: Sequence[str]) -> str:
        """The JSON text at `path`, `null` when it is missing."""
        raise NotImplementedError

    def text(self, base: str, path: Sequence[str]) -> str:
        """The string at `path` as SQL text (NULL when missing or null)."""
        raise NotImplementedError

    def typeof(self, base: str, path: Sequence[str]) -> str:
        raise NotImplementedError

    def array(self, base: str, path: Sequence[str], alias: str, item: Sql) -> Sql:
        """`[item, …]` over the array at `path`, in order; `item` reads the element `alias`
        (`self.element(alias)`); NULL for no elements."""
        raise NotImplementedError

    def element(self, alias: str) -> str:
        raise NotImplementedError

    def element_leaf(self, base: str, path: Sequence[str], alias: str) -> str:
        raise NotImplementedError

    def aggregate(self, item: Sql, order: str, source: Sql) -> Sql:
        """`[item, …]` over the rows of `source` (FROM … WHERE …) sorted by `order`."""
        raise NotImplementedError

    def quote(self, expression: str) -> str:
        """SQL text as a JSON string."""
        raise NotImplementedError

    def number(self, expression: str) -> str:
        raise NotImplementedError

    def b64url(self, expression: str) -> str:
        """URL-safe base64 of the UTF-8 bytes of SQL text, without padding (node IDs, cursors)."""
        raise NotImplementedError

    def cursor(self, value: str, key: str) -> str:
        """The JSON text `[value, key]`, compact, as orjson writes it."""
        raise NotImplementedError


class Postgres(Dialect):
    def json(self, base: str, path: Sequence[str]) -> str:
        return base + "".join(f"->{_literal(p)}" for p in path)

    def leaf(self, base: str, path: Sequence[str]) -> str:
        return f"COALESCE(({self.json(base, path)})::text, 'null')"

    def text(self, base: str, path: Sequence[str]) -> str:
        *head, last = path
        return f"({self.json(base, head)}->>{_literal(last)})"

    def typeof(self, base: str, path: Sequence[str]) -> str:
        return f"jsonb_typeof({self.json(base, path)})"

    def array(self, base: str, path: Sequence[str], alias: str, item: Sql) -> Sql:
        return _cat(
            "(SELECT '[' || string_agg(",
            item,
            f", ',' ORDER BY {alias}.o) || ']' FROM jsonb_array_elements(",
            self.json(base, path),
            f") WITH ORDINALITY AS {alias}(v, o))",
        )

    def element(self, alias: str) -> str:
        return f"{alias}.v"

    def element_leaf(self, base: str, path: Sequence[str], alias: str) -> str:
        return f"COALESCE({alias}.v::text, 'null')"

    def aggregate(self, item: Sql, order: str, source: Sql) -> Sql:
        return _cat(
            "(SELECT '[' || string_agg(", item, f", ',' ORDER BY {order}) || ']' FROM ", source, ")"
        )

    def quote(self, expression: str) -> str:
        return f"to_json(({expression})::text)::text"

    def number(self, expression: str) -> str:
        return f"({expression})::text"

    def b64url(self, expression: str) -> str:
        return f"translate(encode(convert_to({expression}, 'UTF8'), 'base64'), E'+/=\\n', '-_')"

    def cursor(self, value: str, key: str) -> str:
        return f"'[' || to_json({value})::text || ',' || to_json(({key})::text)::text || ']'"


class Sqlite(Dialect):
    @staticmethod
    def _path(path: Sequence[str]) -> str:
        return _literal("$" + "".join(f".{p}" for p in path))

    def json(self, base: str, path: Sequence[str]) -> str:
        return f"({base} -> {self._path(path)})"

    def leaf(self, base: str, path: Sequence[str]) -> str:
        return f"COALESCE({self.json(base, path)}, 'null')"

    def text(self, base: str, path: Sequence[str]) -> str:
        return f"({base} ->> {self._path(path)})"

    def typeof(self, base: str, path: Sequence[str]) -> str:
        return f"json_type({base}, {self._path(path)})"

    def array(self, base: str, path: Sequence[str], alias: str, item: Sql) -> Sql:
        # group_concat keeps the order of its (sorted) subquery's rows.
        return _cat(
            "(SELECT '[' || group_concat(s, ',') || ']' FROM (SELECT ",
            item,
            f" AS s FROM json_each({base}, {self._path(path)}) AS {alias} ORDER BY {alias}.key))",
        )

    def element(self, alias: str) -> str:
        return f"{alias}.value"

    def element_leaf(self, base: str, path: Sequence[str], alias: str) -> str:
        at = _literal("$" + "".join(f".{p}" for p in path) + "[")
        return f"COALESCE({base} -> ({at} || {alias}.key || ']'), 'null')"

    def aggregate(self, item: Sql, order: str, source: Sql) -> Sql:
        return _cat(
            "(SELECT '[' || group_concat(s, ',') || ']' FROM (SELECT ",
            item,
            " AS s FROM ",
            source,
            f" ORDER BY {order}))",
        )

    def quote(self, expression: str) -> str:
        return f"json_quote({expression})"

    def number(self, expression: str) -> str:
        return f"CAST(({expression}) AS TEXT)"

    def b64url(self, expression: str) -> str:
        return f"gk_b64url({expression})"

    def cursor(self, value: str, key: str) -> str:
        return f"json_array({value}, {key})"


DIALECTS: dict[str, Dialect] = {"postgres": Postgres(), "sqlite": Sqlite()}


def _b64url(text: str | None) -> str | None:
    if text is None:
        return None
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# -- compiling ---------------------------------------------------------------------------------


def _identity_enum(names: dict[Any, str] | None) -> bool:
    """Enums whose stored values are their GraphQL names pass as they are."""
    return names is not None and all(value == name for value, name in names.items())


#: Compiled objects by plan (plans live as long as their learned document).
_OBJECTS: weakref.WeakKeyDictionary[ObjectPlan, dict[tuple[Any, ...], Sql]] = (
    weakref.WeakKeyDictionary()
)


class Compiler:
    """Builds the SQL of a plan's objects for one dialect. Aliases are numbered per statement."""

    def __init__(self, dialect: Dialect) -> None:
        self.d = dialect
        self.aliases = 0

    def alias(self, prefix: str) -> str:
        self.aliases += 1
        return f"{prefix}{self.aliases}"

    def object(self, plan: ObjectPlan, base: str, path: tuple[str, ...], row: str | None) -> Sql:
        """`{"key": value, …}` of an object read at `path` of `base`; `row` is the snapshot row
        alias when the object is the row's record (its `id` is computed from it).

        Kept per plan: the text depends on nothing else (its only parameter is the base URL,
        filled in per request), and its aliases are its own, so it fits in any statement."""
        cached = _OBJECTS.setdefault(plan, {})
        key = (id(self.d), base, path, row)
        found = cached.get(key)
        if found is None:
            found = cached[key] = self._object(plan, base, path, row)
        return Sql(found.text, list(found.params))

    def _object(self, plan: ObjectPlan, base: str, path: tuple[str, ...], row: str | None) -> Sql:
        if not plan.fields:
            return Sql("'{}'")
        out = Sql("(")
        for i, f in enumerate(plan.fields):
            prefix = ("{" if i == 0 else ",") + orjson.dumps(f.key).decode() + ":"
            out += _literal(prefix) + " || "
            out += self.field(plan, f, base, path, row)
            out += " || "
        out += "'}')"
        return out

    def field(
        self, plan: ObjectPlan, f: FieldPlan, base: str, path: tuple[str, ...], row: str | None
    ) -> Sql:
        kind = f.kind
        if kind == TYPENAME:
            return Sql(_literal(orjson.dumps(f.name).decode()))
        if kind in (PASS, ENUM, INT, OBJECT, OBJECTS, ITEM, GET):
            if f.name == "id" and row is not None and not path and plan.name in rows.RECORD_TYPES:
                typed = f"{_literal(plan.name + ':')} || {self.d.text(base, ('key',))}"
                return Sql(f"('\"' || {self.d.b64url(typed)} || '\"')")
            return self.value(f.out, base, (*path, f.name))
        if kind == URL:
            url = self.d.quote(f"? || '/' || {self.d.text(base, (*path, f.name))}")
            return Sql(url, [BASE_URL])
        if kind == LOAD and not path:
            return self.relation(f, base)
        raise Unsupported(f"{plan.name}.{f.key}")

    def value(self, out: Out, base: str, path: tuple[str, ...]) -> Sql:
        d = self.d
        leaf = out.leaf
        if leaf is not None:
            if leaf.names is not None and not _identity_enum(leaf.names):
                raise Unsupported("enum with other names than values")
            return Sql(d.leaf(base, path))
        if out.obj is not None:
            inner = self.object(out.obj, base, path, None)
            check = f"(CASE WHEN {d.typeof(base, path)} = 'object' THEN "
            return _cat(check, inner, " ELSE 'null' END)")
        item = out.item
        if item is not None and not item.nullable:
            alias = self.alias("e")
            if item.leaf is not None:
                if item.leaf.names is not None and not _identity_enum(item.leaf.names):
                    raise Unsupported("enum with other names than values")
                each = Sql(d.element_leaf(base, path, alias))
            elif item.obj is not None:
                each = self.object(item.obj, d.element(alias), (), None)
            else:
                raise Unsupported("list of abstract types")
            return _cat(
                f"(CASE WHEN {d.typeof(base, path)} = 'array' THEN COALESCE(",
                d.array(base, path, alias, each),
                ", '[]') ELSE 'null' END)",
            )
        raise Unsupported("a list of nullable items, or an abstract type")

    def relation(self, f: FieldPlan, base: str) -> Sql:
        relation = f.relation
        assert relation is not None
        d = self.d
        fields = relation.key.fields
        if len(fields) == 1:
            key = d.text(base, fields)
        else:
            key = f"({d.text(base, fields[:1])} || '/' || {d.text(base, fields[1:])})"
        r = self.alias("r")
        kind = _literal(relation.record_type.value)
        column = "record_key" if relation.mode == RECORD else "subject_key"
        source = (
            f"disclosure {r} WHERE {r}.record_type = {kind} AND {r}.{column} = {key}"
            f" AND {rows.current(r)}"
        )
        if relation.mode == CHILDREN:
            item = f.out.item
            if item is None or item.obj is None or item.nullable:
                raise Unsupported(f.key)
            each = self.object(item.obj, f"{r}.data", (), r)
            return _cat("COALESCE(", d.aggregate(each, f"{r}.record_key", Sql(source)), ", '[]')")
        if f.out.obj is None:
            raise Unsupported(f.key)
        inner = self.object(f.out.obj, f"{r}.data", (), r)
        order = f" ORDER BY {r}.record_key LIMIT 1" if relation.mode == FIRST_CHILD else ""
        return _cat("COALESCE((SELECT ", inner, f" FROM {source}{order}), 'null')")

    # -- roots -------------------------------------------------------------------------------

    def node(self, out: Out, record_type: RecordType, key: str) -> Sql:
        name = rows.TYPE_NAMES[record_type]
        plan = next((p for p in out.abstract if p.name == name), None)
        if plan is None:
            raise Unsupported("node")
        inner = self.object(plan, "d.data", (), "d")
        return _cat(
            "COALESCE((SELECT ",
            inner,
            Sql(
                " FROM disclosure d WHERE d.record_type = ? AND d.record_key = ?"
                f" AND {rows.CURRENT}), 'null')",
                [record_type.value, key],
            ),
        )

    def connection(self, out: Out, spec: queries.ListSpec, request: PageRequest) -> Sql:
        plan = out.obj
        if plan is None:
            raise Unsupported("connection")
        q = page_query(spec.record_type, spec.where, spec.order, spec.descending, request)
        d = self.d
        size = q.size
        direction = q.direction
        # Rows come in the walk's order (rn); a backward page is shown in the opposite order.
        shown = "ASC" if q.forward else "DESC"
        last = "DESC" if q.forward else "ASC"
        page = "q WHERE q.rn <= " + str(size)
        cursor = f"('\"' || {d.b64url(d.cursor('q.sv', 'q.record_key'))} || '\"')"
        more = f"((SELECT COUNT(*) FROM q) > {size})"
        body = Sql("(")
        counted = False  # whether `totalCount` or `totalCountIsExact` reads the count, `c`
        limit = pagination.COUNT_LIMIT
        for i, f in enumerate(plan.fields):
            body += _literal(("{" if i == 0 else ",") + orjson.dumps(f.key).decode() + ":")
            body += " || "
            if f.kind == TYPENAME:
                body += _literal(orjson.dumps(f.name).decode())
            elif f.kind == COUNT:
                counted = True
                body += d.number(f"SELECT CASE WHEN c.n > {limit} THEN {limit} ELSE c.n END FROM c")
            elif f.kind == EXACT:
                counted = True
                body += f"(SELECT CASE WHEN c.n > {limit} THEN 'false' ELSE 'true' END FROM c)"
            elif f.kind == OBJECTS and f.name in ("nodes", "edges") and f.plan is not None:
                if f.name == "nodes":
                    each = self.object(f.plan, "q.data", (), "q")
                else:
                    each = self.edge(f.plan, cursor)
                listed = d.aggregate(each, f"q.rn {shown}", Sql(page))
                body += _cat("COALESCE(", listed, ", '[]')")
            elif f.kind == OBJECT and f.name == "pageInfo" and f.plan is not None:
                facts = {
                    "hasNextPage": more if q.forward else str(request.before is not None).upper(),
                    "hasPreviousPage": (
                        more if not q.forward else str(request.after is not None).upper()
                    ),
                }
                ends = {"startCursor": shown, "endCursor": last}
                info = Sql("(")
                for j, g in enumerate(f.plan.fields):
                    info += _literal(("{" if j == 0 else ",") + orjson.dumps(g.key).decode() + ":")
                    info += " || "
                    if g.kind == TYPENAME:
                        info += _literal(orjson.dumps(g.name).decode())
                    elif g.name in facts:
                        info += f"(CASE WHEN {facts[g.name]} THEN 'true' ELSE 'false' END)"
                    elif g.name in ends:
                        info += (
                            f"COALESCE((SELECT {cursor} FROM {page}"
                            f" ORDER BY q.rn {ends[g.name]} LIMIT 1), 'null')"
                        )
                    else:
                        raise Unsupported(g.key)
                    info += " || "
                info += "'}')" if f.plan.fields else "'{}')"
                body += info
            else:
                raise Unsupported(f.key)
            body += " || "
        body += "'}')" if plan.fields else "'{}')"
        order = spec.order
        count = Sql(f", c AS ({count_sql(q.matching.sql())})", list(q.matching.params))
        return _cat(
            Sql(
                f"(WITH p AS (SELECT d.data, d.record_key, {order} AS sv FROM disclosure d"
                f" WHERE {q.keyset.sql()} ORDER BY {order} {direction},"
                f" d.record_key {direction} LIMIT {size + 1}),"
                " q AS (SELECT p.data, p.record_key, p.sv, ROW_NUMBER() OVER"
                f" (ORDER BY p.sv {direction}, p.record_key {direction}) AS rn FROM p)",
                list(q.keyset.params),
            ),
            count if counted else Sql(""),
            " SELECT ",
            body,
            ")",
        )

    def edge(self, plan: ObjectPlan, cursor: str) -> Sql:
        out = Sql("(")
        for i, f in enumerate(plan.fields):
            out += _literal(("{" if i == 0 else ",") + orjson.dumps(f.key).decode() + ":") + " || "
            if f.kind == TYPENAME:
                out += _literal(orjson.dumps(f.name).decode())
            elif f.name == "cursor":
                out += cursor
            elif f.name == "node" and f.kind == OBJECT and f.plan is not None:
                out += self.object(f.plan, "q.data", (), "q")
            else:
                raise Unsupported(f.key)
            out += " || "
        out += "'}')" if plan.fields else "'{}')"
        return out


# -- running -----------------------------------------------------------------------------------


@dataclass(eq=False)
class Statement:
    """One request's statement: its SQL and parameters, and the root keys in order (a root
    `__typename` is written by Python)."""

    sql: str
    params: list[Any]
    keys: list[tuple[str, str | None]]  # (response key, a constant JSON value or None)


def statement(fast: FastPath, plan: Plan, variables: VariableValues, dialect: Dialect) -> Statement:
    """The statement answering `plan`, or `Unsupported`; `rows.BadInput` (and any error of
    argument coercion) for requests graphql-core answers with an error."""
    compiler = Compiler(dialect)
    columns: list[Sql] = []
    keys: list[tuple[str, str | None]] = []
    for root in plan.roots:
        if root.kind == TYPENAME:
            keys.append((root.key, orjson.dumps(root.name).decode()))
            continue
        if root.kind not in (ROOT_LIST, ROOT_NODE) or root.out is None:
            raise Unsupported(root.key)
        arguments = _arguments(fast, root, variables)
        if root.kind == ROOT_NODE:
            record_type, key = rows.parse_node_id(str(arguments["id"]))
            columns.append(compiler.node(root.out, record_type, key))
        else:
            spec_of = queries.SPECS.get(root.name)
            if spec_of is None:
                raise Unsupported(root.name)
            request = PageRequest(**{n: arguments.pop(n, None) for n in PAGE_ARGUMENTS})
            columns.append(compiler.connection(root.out, spec_of(**arguments), request))
        keys.append((root.key, None))
    if not columns:
        raise Unsupported("no root reads the database")
    select = _cat("SELECT ", *_join(columns))
    return Statement(select.text, select.params, keys)


PAGE_ARGUMENTS = ("first", "after", "last", "before")


def _join(columns: list[Sql]) -> list[Sql | str]:
    out: list[Sql | str] = []
    for i, column in enumerate(columns):
        if i:
            out.append(", ")
        out.append(column)
    return out


def _arguments(fast: FastPath, root: RootField, variables: VariableValues) -> dict[str, Any]:
    return convert_arguments(
        get_argument_values(root.graphql_field, root.node, variables),
        root.arguments,
        scalar_registry=fast.scalar_registry,
        config=fast.config,
    )


_SQLITE_READY: weakref.WeakSet[Any] = weakref.WeakSet()


async def run(found: Statement, context: Context, dialect_name: str) -> list[str]:
    """The JSON text of each database root, in order."""
    params = [context.public_base_url if p is BASE_URL else p for p in found.params]
    client = connections.get("default")
    if dialect_name == "postgres":
        sql = rows.numbered(found.sql)
        async with client.acquire_connection() as connection:
            # A prepared statement per SQL text, kept by asyncpg's statement cache.
            row = await connection.fetchrow(sql, *params)
            if isinstance(client, AsyncpgDBClient):  # a pool connection, not a transaction's
                # One read-only SELECT of ours: the pool may skip its reset query.
                mark = getattr(connection, "mark_unchanged", None)
                if mark is not None:
                    mark()
        return list(row)
    async with client.acquire_connection() as connection:
        if connection not in _SQLITE_READY:
            await connection.create_function("gk_b64url", 1, _b64url, deterministic=True)
            _SQLITE_READY.add(connection)
        found_rows = await connection.execute_fetchall(found.sql, params)
    return list(next(iter(found_rows)))


def response(found: Statement, values: list[str], extensions: bytes) -> bytes:
    """`{"data": {…}, "extensions": …}` exactly as orjson writes the fast path's answer."""
    parts = []
    answers = iter(values)
    for key, constant in found.keys:
        value = constant if constant is not None else next(answers)
        parts.append(f"{orjson.dumps(key).decode()}:{value}")
    return b'{"data":{' + ",".join(parts).encode() + b'},"extensions":' + extensions + b"}"


async def answer(compiled: Compiled, variables: dict[str, Any] | None, context: Context) -> bytes:
    """The response body of a learned document, written by the database, or `Fallback` (the
    fast path, then graphql-core, answer it: an error included)."""
    try:
        coerced = compiled.coerce(variables)
        plan = compiled.plan(coerced)
        if plan.sql_unsupported:
            raise Fallback
        name = str(connections.get("default").capabilities.dialect)
        try:
            found = statement(compiled.fast, plan, coerced, DIALECTS[name])
        except Unsupported:
            plan.sql_unsupported = True
            raise Fallback from None
        values = await run(found, context, name)
    except Fallback:
        raise
    except Exception as error:  # a BadInput, a coercion error: graphql-core reports it
        raise Fallback from error
    return response(found, values, compiled.extensions_json)
