"""The compiled fast path for public reads (architecture.md, "Fast path for public reads").

strawberry stays the schema: types, descriptions, SDL, introspection, validation rules and
limits. Once a document has run through `schema.execute` without errors (so it parsed and
validated under every rule), `FastPath.learn` keeps it; later requests for the same document and
operation run a compiled plan instead of resolving field by field:

1. coerce the request's variables with graphql-core (`get_variable_values`);
2. pick the `Plan` for the values of the variables that steer `@skip`/`@include` — built once,
   with graphql-core's own field collection, so aliases, named and inline fragments with type
   conditions, merged fields and directives mean exactly what they mean to graphql-core;
3. run the root fields with the functions the strawberry resolvers call (`queries.LISTS`,
   `statistics.statistics`, the row readers of `schema.rows`), arguments coerced by graphql-core
   and converted by strawberry;
4. project the snapshot dicts through the plan (response keys, selected fields only, leaves
   coerced as graphql-core would), leaving a hole for every relation, then fill the holes level by
   level with one query per relation and level, as the DataLoaders do.

Anything the plan does not cover — introspection other than `__typename`, a resolver it does not
know, a value that graphql-core would turn into an error (a bad cursor, a null where the schema
says non-null, a leaf it cannot coerce) — raises `Fallback`, and the caller executes the request
normally, which produces the error (or the answer) exactly as before.
"""

from __future__ import annotations

import asyncio
import functools
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import strawberry
from graphql import (
    DirectiveNode,
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLID,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    get_argument_values,
    get_variable_values,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    parse,
    visit,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues
from graphql.language import Visitor
from graphql.pyutils import Undefined
from strawberry.types.arguments import StrawberryArgument, convert_arguments

from publishers.records import department_key
from schema import limits, rows
from schema.context import Context
from schema.public import queries, statistics
from storage.enums import RecordType

#: The strawberry field definition behind a graphql-core field.
DEFINITION = "strawberry-definition"
PLANS_PER_DOCUMENT = 32


class Fallback(Exception):
    """The fast path cannot answer this request exactly: execute it normally."""


# -- what resolvers do, for the plan -----------------------------------------------------------

#: How a relation's value is found: the current record by key, or a subject's records.
RECORD, CHILDREN, FIRST_CHILD = 0, 1, 2


@dataclass(frozen=True)
class Relation:
    """A field whose resolver goes through a DataLoader (schema/public/types.py)."""

    record_type: RecordType
    mode: int
    key: KeyOf


@dataclass(frozen=True)
class KeyOf:
    """A relation's key in its source record: the value of one field, or with two fields the
    department key of (jurisdiction code, department code). The SQL compiler reads `fields`."""

    fields: tuple[str, ...]

    def __call__(self, source: dict[str, Any]) -> str | None:
        if len(self.fields) == 1:
            value: str | None = source[self.fields[0]]
            return value
        code = source[self.fields[1]]
        return None if code is None else department_key(source[self.fields[0]], code)


def _department_key(code_field: str) -> KeyOf:
    return KeyOf(("jurisdictionCode", code_field))


def _item(name: str) -> KeyOf:
    return KeyOf((name,))


_T = "schema.public.types."
#: Resolvers by their function (module and qualified name), and what each one loads.
RELATIONS: dict[str, Relation] = {
    _T + "Department.jurisdiction": Relation(
        RecordType.JURISDICTION, RECORD, _item("jurisdictionCode")
    ),
    _T + "Department.parent": Relation(
        RecordType.DEPARTMENT, RECORD, _department_key("parentCode")
    ),
    _T + "PerformanceTarget.subject": Relation(RecordType.SUBJECT, RECORD, _item("subjectKey")),
    _T + "SelfAssessment.subject": Relation(RecordType.SUBJECT, RECORD, _item("subjectKey")),
    _T + "Evaluation.subject": Relation(RecordType.SUBJECT, RECORD, _item("subjectKey")),
    _T + "Evaluation.report": Relation(RecordType.FILE, RECORD, _item("reportFileKey")),
    _T + "Subject.department": Relation(
        RecordType.DEPARTMENT, RECORD, _department_key("departmentCode")
    ),
    _T + "Subject.target": Relation(RecordType.TARGET, FIRST_CHILD, _item("key")),
    _T + "Subject.selfAssessment": Relation(RecordType.SELF_ASSESSMENT, FIRST_CHILD, _item("key")),
    _T + "Subject.evaluations": Relation(RecordType.EVALUATION, CHILDREN, _item("key")),
    _T + "Subject.monitoring": Relation(RecordType.MONITORING, CHILDREN, _item("key")),
    _T + "Subject.exAnteAssessments": Relation(
        RecordType.EX_ANTE_ASSESSMENT, CHILDREN, _item("key")
    ),
    _T + "Release.department": Relation(
        RecordType.DEPARTMENT, RECORD, _department_key("departmentCode")
    ),
    _T + "Release.jurisdiction": Relation(
        RecordType.JURISDICTION, RECORD, _item("jurisdictionCode")
    ),
    _T + "CorrectionNotice.release": Relation(RecordType.RELEASE, RECORD, _item("releaseKey")),
}

# Field kinds: how a field's value comes out of its parent's snapshot dict. The first ones
# read `source[name]` and specialise the completion of the commonest types (the hot loop).
PASS, ENUM, INT, OBJECT, OBJECTS, ITEM, GET, URL, TYPENAME, LOAD, COUNT, EXACT = range(12)
#: graphql-core's range of `Int`.
MIN_INT, MAX_INT = -(2**31), 2**31 - 1
#: Resolvers that read their own record: (kind, the key they read).
LOCAL: dict[str, tuple[int, str]] = {
    _T + "AmountBlock.fullYear": (GET, "fullYear"),
    _T + "AmountBlock.executed": (GET, "executed"),
    _T + "ReleaseVersion.manifestUrl": (URL, "manifest"),
    _T + "ReleaseVersion.kind": (GET, "kind"),
    _T + "ReleaseVersion.kindLabel": (GET, "kindLabel"),
    _T + "Release.manifestUrl": (URL, "manifest"),
    _T + "Release.datapackageUrl": (URL, "datapackage"),
    "schema.public.queries.Connection.totalCount": (COUNT, "_page"),
    "schema.public.queries.Connection.totalCountIsExact": (EXACT, "_page"),
}

# Root fields: a list page, `node`, `statistics`.
ROOT_LIST, ROOT_NODE, ROOT_STATISTICS = range(3)
ROOTS: dict[str, int] = {
    **{f"{f.__module__}.{f.__qualname__}": ROOT_LIST for f in queries.LISTS.values()},
    "schema.public.queries.find_node": ROOT_NODE,
    "schema.public.schema.Query.statistics": ROOT_STATISTICS,
}


def _resolver_name(definition: Any) -> str | None:
    resolver = getattr(definition, "base_resolver", None)
    if resolver is None:
        return None
    function = resolver.wrapped_func
    return f"{function.__module__}.{function.__qualname__}"


# -- the plan ----------------------------------------------------------------------------------


@dataclass(eq=False)
class Leaf:
    """A scalar or enum: values of exactly `fast` pass unchanged (graphql-core returns them as
    they are); anything else goes through the type's own output coercion."""

    graphql_type: Any
    fast: type | None = None
    names: dict[Any, str] | None = None  # enum: value → name

    def coerce(self, value: Any) -> Any:
        if self.names is not None and type(value) is str:
            name = self.names.get(value)
            if name is not None:
                return name
        coerced = self.graphql_type.coerce_output_value(value)
        if coerced is None or coerced is Undefined:
            raise Fallback
        return coerced


@dataclass(eq=False)
class Out:
    """How a value of a field's type is completed: nullability, then a leaf, a list, an object
    or one of the objects of an abstract type."""

    nullable: bool
    leaf: Leaf | None = None
    item: Out | None = None
    obj: ObjectPlan | None = None
    abstract: tuple[ObjectPlan, ...] = ()


@dataclass(eq=False, slots=True)
class FieldPlan:
    key: str  # the response key (alias or name)
    kind: int
    name: str  # the snapshot key it reads, or the type name for __typename
    out: Out = field(default_factory=lambda: Out(True))
    relation: Relation | None = None
    # Shortcuts of `out` for the specialised kinds.
    fast: type | None = None
    names: dict[Any, str] | None = None
    plan: ObjectPlan | None = None

    @classmethod
    def item(cls, key: str, name: str, out: Out) -> FieldPlan:
        """A plain field (`getitem`), with the kind that completes its type fastest."""
        leaf = out.leaf
        if leaf is not None and leaf.names is not None:
            return cls(key, ENUM, name, out, names=leaf.names)
        if leaf is not None and leaf.graphql_type is GraphQLInt:
            return cls(key, INT, name, out)
        if leaf is not None and leaf.fast is not None:
            return cls(key, PASS, name, out, fast=leaf.fast)
        if out.obj is not None:
            return cls(key, OBJECT, name, out, plan=out.obj)
        item = out.item
        if item is not None and item.obj is not None and not item.nullable:
            return cls(key, OBJECTS, name, out, plan=item.obj)
        return cls(key, ITEM, name, out)


@dataclass(eq=False)
class ObjectPlan:
    name: str
    is_type_of: Callable[[Any, Any], Any] | None
    fields: list[FieldPlan] = field(default_factory=list)


@dataclass(eq=False)
class RootField:
    key: str
    kind: int  # ROOT_* or TYPENAME
    node: Any = None  # the first FieldNode of the group: graphql-core reads arguments there
    graphql_field: Any = None
    arguments: list[StrawberryArgument] = field(default_factory=list)
    name: str = ""
    out: Out | None = None


@dataclass(eq=False)
class Plan:
    roots: list[RootField]
    #: The SQL compiler (schema/public/sqlpath.py) found a shape it does not cover.
    sql_unsupported: bool = False


class Unsupported(Exception):
    """The document has a shape the plan does not cover."""


class Compiled:
    """A learned document and operation, with its plans by the values of the variables that
    steer `@skip`/`@include`."""

    def __init__(
        self, fast: FastPath, document: DocumentNode, operation: OperationDefinitionNode
    ) -> None:
        self.fast = fast
        self.document = document
        self.operation = operation
        self.fragments = {
            d.name.value: FragmentDetails(d)
            for d in document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        self.supported = not any(
            d.variable_definitions
            for d in document.definitions
            if isinstance(d, FragmentDefinitionNode)
        )
        self.conditions = sorted(_condition_variables(document))
        self.plans: dict[tuple[Any, ...], Plan | None] = {}
        self.extensions = {
            "cost": {"requested": limits.document_cost(document), "maximum": limits.MAX_COST}
        }
        self.extensions_json = orjson.dumps(self.extensions)

    async def execute(self, variables: dict[str, Any] | None, context: Context) -> dict[str, Any]:
        """The response (`data` and `extensions`), or `Fallback`."""
        if not self.supported:
            raise Fallback
        try:
            coerced = get_variable_values(
                self.fast.graphql_schema, self.operation.variable_definitions or (), variables or {}
            )
            if isinstance(coerced, list):
                raise Fallback  # variable errors: graphql-core reports them
            data = await Run(self.fast, context, coerced).execute(self._plan(coerced))
        except Fallback:
            raise
        except Exception as error:  # anything graphql-core would report as an error
            raise Fallback from error
        return {"data": data, "extensions": self.extensions}

    def coerce(self, variables: dict[str, Any] | None) -> VariableValues:
        """The request's variables as graphql-core coerces them, or `Fallback`."""
        if not self.supported:
            raise Fallback
        coerced = get_variable_values(
            self.fast.graphql_schema, self.operation.variable_definitions or (), variables or {}
        )
        if isinstance(coerced, list):
            raise Fallback  # variable errors: graphql-core reports them
        return coerced

    def plan(self, variables: VariableValues) -> Plan:
        """The plan for these variables' directive conditions, or `Fallback`."""
        return self._plan(variables)

    def _plan(self, variables: VariableValues) -> Plan:
        values = variables.coerced
        key = tuple((name in values, values.get(name)) for name in self.conditions)
        if key in self.plans:
            plan = self.plans[key]
        else:
            try:
                plan = Planner(self.fast, self, variables).plan()
            except Unsupported:
                plan = None
            except GraphQLError:  # e.g. `@skip(if: $x)` with $x null: graphql-core reports it
                raise Fallback from None
            if len(self.plans) < PLANS_PER_DOCUMENT:
                self.plans[key] = plan
        if plan is None:
            raise Fallback
        return plan


def _condition_variables(document: DocumentNode) -> set[str]:
    names: set[str] = set()

    class Conditions(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            if node.name.value in ("skip", "include"):
                for argument in node.arguments or ():
                    if isinstance(argument.value, VariableNode):
                        names.add(argument.value.name.value)

    visit(document, Conditions())
    return names


class Planner:
    """Walks the operation once for given directive conditions, with graphql-core's field
    collection, into a `Plan`."""

    def __init__(self, fast: FastPath, compiled: Compiled, variables: VariableValues) -> None:
        self.fast = fast
        self.schema = fast.graphql_schema
        self.compiled = compiled
        self.variables = variables

    def plan(self) -> Plan:
        query = self.schema.query_type
        assert query is not None
        collected = collect_fields(
            self.schema,
            self.compiled.fragments,
            self.variables,
            query,
            self.compiled.operation,
        )
        roots = []
        for key, group in collected.grouped_field_set.items():
            _check(group)
            node = group[0].node
            name = node.name.value
            if name == "__typename":
                roots.append(RootField(key, TYPENAME, name=query.name))
                continue
            graphql_field = query.fields.get(name)
            if graphql_field is None:  # __schema, __type
                raise Unsupported(name)
            definition = graphql_field.extensions.get(DEFINITION)
            kind = ROOTS.get(_resolver_name(definition) or "")
            if kind is None or definition is None or definition.extensions:
                raise Unsupported(name)
            roots.append(
                RootField(
                    key,
                    kind,
                    node,
                    graphql_field,
                    definition.arguments,
                    definition.python_name,
                    self.out(graphql_field.type, group),
                )
            )
        return Plan(roots)

    def out(self, graphql_type: GraphQLOutputType, group: list[FieldDetails]) -> Out:
        nullable = True
        if is_non_null_type(graphql_type):
            nullable = False
            graphql_type = graphql_type.of_type  # type: ignore[attr-defined]
        if is_list_type(graphql_type):
            return Out(nullable, item=self.out(graphql_type.of_type, group))  # type: ignore[attr-defined]
        if is_leaf_type(graphql_type):
            return Out(nullable, leaf=self.fast.leaf(graphql_type))
        if is_object_type(graphql_type):
            assert isinstance(graphql_type, GraphQLObjectType)
            return Out(nullable, obj=self.object(graphql_type, group))
        if is_abstract_type(graphql_type):
            possible = self.schema.get_possible_types(graphql_type)  # type: ignore[arg-type]
            return Out(nullable, abstract=tuple(self.object(t, group) for t in possible))
        raise Unsupported(str(graphql_type))

    def object(self, graphql_type: GraphQLObjectType, group: list[FieldDetails]) -> ObjectPlan:
        plan = ObjectPlan(graphql_type.name, graphql_type.is_type_of)
        collected = collect_subfields(
            self.schema,
            self.compiled.fragments,
            self.variables,
            self.compiled.operation,
            graphql_type,
            group,
        )
        for key, subgroup in collected.grouped_field_set.items():
            _check(subgroup)
            node = subgroup[0].node
            name = node.name.value
            if name == "__typename":
                plan.fields.append(FieldPlan(key, TYPENAME, graphql_type.name))
                continue
            graphql_field = graphql_type.fields.get(name)
            if graphql_field is None or graphql_field.args or node.arguments:
                raise Unsupported(name)
            definition = graphql_field.extensions.get(DEFINITION)
            if definition is None or definition.extensions:
                raise Unsupported(name)
            out = self.out(graphql_field.type, subgroup)
            resolver = _resolver_name(definition)
            if resolver is None:
                plan.fields.append(FieldPlan.item(key, definition.python_name, out))
            elif resolver in RELATIONS:
                relation = RELATIONS[resolver]
                plan.fields.append(FieldPlan(key, LOAD, name, out, relation))
            elif resolver in LOCAL:
                kind, source = LOCAL[resolver]
                plan.fields.append(FieldPlan(key, kind, source, out))
            else:
                raise Unsupported(resolver)
        return plan


def _check(group: list[FieldDetails]) -> None:
    if any(d.defer_usage is not None or d.fragment_variable_values for d in group):
        raise Unsupported("@defer or fragment arguments")


# -- running a plan ----------------------------------------------------------------------------

Hole = tuple[dict[str, Any], str, Out, RecordType, int, str | None]


class Run:
    """One request: root fields, then relations level by level, one query per relation and
    level (current records of a type by key, or a subject's records of a type)."""

    def __init__(self, fast: FastPath, context: Context, variables: VariableValues) -> None:
        self.fast = fast
        self.context = context
        self.variables = variables
        self.holes: list[Hole] = []
        self.counts: list[tuple[dict[str, Any], str, Out, Any]] = []
        self.records: dict[tuple[RecordType, bool], dict[str, Any]] = {}

    async def execute(self, plan: Plan) -> dict[str, Any]:
        data: dict[str, Any] = {}
        # The calls start only once every root's arguments are read: an argument error of a
        # later root must not leave an earlier root's coroutine never awaited.
        calls: list[tuple[RootField, Callable[[], Awaitable[Any]]]] = []
        for root in plan.roots:
            data[root.key] = None
            if root.kind == TYPENAME:
                data[root.key] = root.name
                continue
            arguments = convert_arguments(
                get_argument_values(root.graphql_field, root.node, self.variables),
                root.arguments,
                scalar_registry=self.fast.scalar_registry,
                config=self.fast.config,
            )
            if root.kind == ROOT_NODE:
                record_type, key = rows.parse_node_id(str(arguments["id"]))
                assert root.out is not None
                self.holes.append((data, root.key, root.out, record_type, RECORD, key))
            elif root.kind == ROOT_LIST:
                calls.append((root, functools.partial(queries.LISTS[root.name], **arguments)))
            else:
                calls.append((root, functools.partial(statistics.statistics, **arguments)))
        if calls:
            values = await asyncio.gather(*(call() for _, call in calls))
            for (root, _), value in zip(calls, values, strict=True):
                assert root.out is not None
                data[root.key] = self.complete(root.out, value)
        while self.holes or self.counts:
            await self.fill()
        return data

    def complete(self, out: Out, value: Any) -> Any:
        if value is None:
            if out.nullable:
                return None
            raise Fallback
        leaf = out.leaf
        if leaf is not None:
            return value if type(value) is leaf.fast else leaf.coerce(value)
        item = out.item
        if item is not None:
            if type(value) is not list:
                raise Fallback
            return [self.complete(item, v) for v in value]
        if out.obj is not None:
            return self.object(out.obj, value)
        return self.object(self.runtime_type(out.abstract, value), value)

    @staticmethod
    def runtime_type(possible: tuple[ObjectPlan, ...], value: Any) -> ObjectPlan:
        """graphql-core's default type resolution: the first type whose `is_type_of` holds."""
        if isinstance(value, dict) and "__typename" in value:
            raise Fallback
        for plan in possible:
            if plan.is_type_of is not None and plan.is_type_of(value, None):
                return plan
        raise Fallback

    def object(self, plan: ObjectPlan, source: Any) -> dict[str, Any]:
        if type(source) is not dict:  # snapshot records are dicts; anything else, graphql-core
            raise Fallback
        if plan.is_type_of is not None and not plan.is_type_of(source, None):
            raise Fallback
        result: dict[str, Any] = {}
        # The hot loop: most fields are leaves that pass unchanged, enums, ints, and objects or
        # lists of objects inside the record. Anything unusual goes through `complete`.
        for f in plan.fields:
            kind = f.kind
            if kind == PASS:
                value = source[f.name]
                if type(value) is f.fast or (value is None and f.out.nullable):
                    result[f.key] = value
                else:
                    result[f.key] = self.complete(f.out, value)
            elif kind == ENUM:
                value = source[f.name]
                name = f.names.get(value) if type(value) is str else None  # type: ignore[union-attr]
                result[f.key] = self.complete(f.out, value) if name is None else name
            elif kind == INT:
                value = source[f.name]
                if type(value) is int and MIN_INT <= value <= MAX_INT:
                    result[f.key] = value
                else:
                    result[f.key] = self.complete(f.out, value)
            elif kind == OBJECTS:
                value = source[f.name]
                if type(value) is list:
                    result[f.key] = [self.object(f.plan, v) for v in value]  # type: ignore[arg-type]
                else:
                    result[f.key] = self.complete(f.out, value)
            elif kind == OBJECT:
                value = source[f.name]
                if value is None:
                    result[f.key] = self.complete(f.out, value)
                else:
                    result[f.key] = self.object(f.plan, value)  # type: ignore[arg-type]
            elif kind == ITEM:
                result[f.key] = self.complete(f.out, source[f.name])
            elif kind == TYPENAME:
                result[f.key] = f.name
            elif kind == LOAD:
                relation: Relation = f.relation  # type: ignore[assignment]
                result[f.key] = None
                key = relation.key(source)
                hole = (result, f.key, f.out, relation.record_type, relation.mode, key)
                self.holes.append(hole)
            elif kind == GET:
                result[f.key] = self.complete(f.out, source.get(f.name))
            elif kind == URL:
                url = self.context.public_url(source[f.name])
                result[f.key] = self.complete(f.out, url)
            else:  # COUNT, EXACT: filled with the page's count, counted once for both
                result[f.key] = None
                self.counts.append((result, f.key, f.out, (kind, source[f.name])))
        return result

    async def fill(self) -> None:
        """Load what this level's holes need, one query per relation, then fill them (which
        may open the holes of the next level)."""
        holes, self.holes = self.holes, []
        counts, self.counts = self.counts, []
        wanted: dict[tuple[RecordType, bool], dict[str, None]] = {}
        for _, _, _, record_type, mode, key in holes:
            if key is None:
                continue
            group = (record_type, mode != RECORD)
            known = self.records.setdefault(group, {})
            if key not in known:
                wanted.setdefault(group, {})[key] = None
        pages = {id(page): page for *_, (_, page) in counts}
        loads = [self.load(group, list(keys)) for group, keys in wanted.items()]
        if pages:
            await asyncio.gather(*(page.counted() for page in pages.values()))
        await asyncio.gather(*loads)
        for result, key, out, (kind, page) in counts:
            total = await (page.total() if kind == COUNT else page.exact())
            result[key] = self.complete(out, total)
        for result, key, out, record_type, mode, record_key in holes:
            if record_key is None:
                value: Any = None if mode != CHILDREN else []
            else:
                value = self.records[(record_type, mode != RECORD)][record_key]
                if mode == FIRST_CHILD:
                    value = value[0] if value else None
            result[key] = self.complete(out, value)

    async def load(self, group: tuple[RecordType, bool], keys: list[str]) -> None:
        record_type, children = group
        known = self.records[group]
        if children:
            known.update(await rows.current_by_subject(record_type, keys))
        else:
            found = await rows.current_by_keys(record_type, keys)
            known.update({key: found.get(key) for key in keys})


# -- the cache ---------------------------------------------------------------------------------


class FastPath:
    """Compiled plans for one public schema, by (document text, operation name).

    Only documents that have run through `schema.execute` without errors are learned, so every
    plan belongs to a document that parsed and validated under the schema's rules and limits.
    """

    def __init__(self, schema: strawberry.Schema, size: int = 512) -> None:
        self.graphql_schema = schema._schema
        self.scalar_registry = schema.schema_converter.scalar_registry
        self.config = schema.config
        self.size = size
        self.enabled = not any(e._implements_resolve() for e in schema.get_extensions())
        self._compiled: OrderedDict[tuple[str, str | None], Compiled] = OrderedDict()
        self._leaves: dict[str, Leaf] = {}

    def compiled(self, query: str, operation_name: str | None) -> Compiled | None:
        found = self._compiled.get((query, operation_name))
        if found is not None:
            self._compiled.move_to_end((query, operation_name))
        return found

    def learn(self, query: str, operation_name: str | None) -> None:
        """Remember a document that has just executed without errors."""
        if not self.enabled or (query, operation_name) in self._compiled:
            return
        try:
            self._learn(query, operation_name)
        except Exception:  # the fast path must never fail a request: it just does not learn
            return

    def _learn(self, query: str, operation_name: str | None) -> None:
        document = parse(query)
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name is None:
            operation = operations[0] if len(operations) == 1 else None
        else:
            operation = next(
                (o for o in operations if o.name and o.name.value == operation_name), None
            )
        if operation is None or operation.operation is not OperationType.QUERY:
            return
        self._compiled[(query, operation_name)] = Compiled(self, document, operation)
        while len(self._compiled) > self.size:
            self._compiled.popitem(last=False)

    def leaf(self, graphql_type: Any) -> Leaf:
        found = self._leaves.get(graphql_type.name)
        if found is None:
            if isinstance(graphql_type, GraphQLEnumType):
                names = {value.value: name for name, value in graphql_type.values.items()}
                found = Leaf(graphql_type, names=names)
            elif graphql_type is GraphQLBoolean:
                found = Leaf(graphql_type, bool)
            elif graphql_type in (GraphQLString, GraphQLID) or (
                graphql_type.coerce_output_value is str  # Date, DateTime, Decimal
            ):
                found = Leaf(graphql_type, str)
            else:  # Int (range-checked), Float, anything else: graphql-core coerces
                found = Leaf(graphql_type)
            self._leaves[graphql_type.name] = found
        return found
