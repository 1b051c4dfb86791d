"""From a function's syntax tree to the statements that are fingerprinted, in a canonical form.

What a rewrite changes and this undoes:

- **comments, spacing, line breaks, string quotes**: gone in the syntax tree; statements are written
  back with :func:`ast.unparse`, which spaces and quotes everything one way;
- **docstrings** and other bare strings, ``pass``: dropped;
- **renamed variables**: every name the function binds (parameters, assignments, loop variables...)
  becomes ``V``; names it only reads (``Conv2D``, ``identity_block``), attributes of its values and
  keyword names stay, because they are how two independent answers differ; a module path is dropped
  (``keras.layers.Conv2D`` reads ``Conv2D``): how a name was imported says nothing;
- **reordered independent statements**: each block's statements are put in one canonical order, the
  smallest text first among those whose inputs are ready (a statement that reads, or rebinds, a
  name an earlier one binds stays after it; calls for their effect, ``return``, ``raise`` stay in place);
- **a helper function extracted**: a call to a function defined at the top level of the same
  notebook is replaced by the helper's statements (its ``return value`` becomes ``V = value``), so
  the code reads as if written in place; ``x += y`` reads ``x = x + y``; ``return f(x)`` reads
  ``V = f(x)`` then ``return V``.

Each statement keeps where it was written (the definition and its lines), for the report.
"""

from __future__ import annotations

import ast
import copy
import heapq
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from resnet_signs.similarity.sources import Definition

LOCAL = "V"  # every name the function binds
HELPER = "F"  # a helper of the notebook named but not inlined (passed as a value, or recursive)
END = "}"  # closes a block (a loop's, a branch's)
_CALL = "<inlined call>"  # stands for a helper's call, whose statements come just before
#: Helpers are inlined this deep, and a function expands to at most this many statements.
MAX_DEPTH = 4
MAX_UNITS = 2000

_TOKEN = re.compile(r"""[A-Za-z_]\w*|\d[\w.]*|'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|\S""")
_BARRIERS = (ast.Return, ast.Raise, ast.Assert, ast.Expr, ast.Global, ast.Nonlocal, ast.Import, ast.ImportFrom,
             ast.Delete, ast.Break, ast.Continue, ast.Yield, ast.YieldFrom, ast.Await)


@dataclass(frozen=True)
class Unit:
    """One statement as compared (a block's header and end are units too).

    Attributes:
        text: the normalised statement, e.g. ``V = Conv2D(filters=V, kernel_size=1)(V)``.
        where: the definition it was written in: the graded function or a helper's name.
        lines: its first and last line in that definition (1 = the ``def`` line).
    """

    text: str
    where: str
    lines: tuple[int, int]

    @property
    def tokens(self) -> list[str]:
        return _TOKEN.findall(self.text)


@dataclass
class _Group:
    """A statement of a block and everything it expands to: units and nested blocks, in order."""

    parts: list = field(default_factory=list)  # Unit | _Block
    defs: frozenset[str] = frozenset()
    uses: frozenset[str] = frozenset()
    barrier: bool = False
    _key: str | None = None

    def units(self, canonical: bool):
        for part in self.parts:
            if isinstance(part, Unit):
                yield part
            else:
                for group in (part.ordered() if canonical else part.groups):
                    yield from group.units(canonical)

    @property
    def key(self) -> str:
        """What decides the canonical order among independent statements: the normalised text."""
        if self._key is None:
            self._key = "\n".join(u.text for u in self.units(canonical=True))
        return self._key


@dataclass
class _Block:
    """The statements of a body (a function's, a loop's...), as written; ordered once on demand."""

    groups: list[_Group]
    _ordered: list[_Group] | None = None

    def ordered(self) -> list[_Group]:
        if self._ordered is None:
            self._ordered = _order(self.groups)
        return self._ordered

    def units(self, canonical: bool) -> list[Unit]:
        return [u for g in (self.ordered() if canonical else self.groups) for u in g.units(canonical)]


def function_units(name: str, definitions: dict[str, Definition],
                   graded: frozenset[str]) -> tuple[list[Unit], list[Unit]]:
    """The statements of the function ``name`` (helpers inlined), as written and in canonical order.

    Args:
        name: a function defined in ``definitions``.
        definitions: the notebook's top-level functions; those not in ``graded`` are helpers.
        graded: the graded functions' names: calls to them stay calls.

    Returns:
        ``(as_written, canonical)``: the same units in the order written and in the canonical order.
    """
    helpers = {n: d for n, d in definitions.items() if n not in graded}
    block = _Expander(helpers).body(definitions[name], stack=(name,), inlined=False)
    return block.units(canonical=False), block.units(canonical=True)


def starter_positions(starter: list[str], written: list[Unit]) -> set[int]:
    """Which of ``written`` (by index) are the release's starter statements ``starter`` (texts).

    The longest common runs first (:class:`difflib.SequenceMatcher`), then each starter statement
    left over takes an unmatched statement with the same text, so moved starter lines count too.
    """
    texts = [u.text for u in written]
    matched: set[int] = set()
    used: set[int] = set()
    for block in SequenceMatcher(None, starter, texts, autojunk=False).get_matching_blocks():
        used.update(range(block.a, block.a + block.size))
        matched.update(range(block.b, block.b + block.size))
    for i, text in enumerate(starter):
        if i in used:
            continue
        spare = next((j for j, t in enumerate(texts) if t == text and j not in matched), None)
        if spare is not None:
            matched.add(spare)
    return matched


# --------------------------------------------------------------------------- expansion
class _Expander:
    def __init__(self, helpers: dict[str, Definition]):
        self.helpers = helpers
        self.count = 0  # units made so far: bounds what a recursive or exploding helper costs

    def body(self, definition: Definition, stack: tuple[str, ...], inlined: bool) -> _Block:
        node = definition.tree()  # a fresh tree: renamed in place below
        local = _bound(node)
        helpers = set(self.helpers) - local
        inlinable = {n for n in helpers if n not in stack} if len(stack) < MAX_DEPTH else set()
        context = _Context(definition.name, _Scope(local, helpers, inlinable), stack, inlined)
        return self.block(node.body, context)

    def block(self, statements: list[ast.stmt], context: _Context) -> _Block:
        return _Block([g for g in (self.statement(s, context) for s in statements) if g.parts])

    def statement(self, node: ast.stmt, context: _Context) -> _Group:
        if _is_noise(node):
            return _Group()
        defs, uses, barrier = _facts(node)
        group = _Group(defs=frozenset(defs), uses=frozenset(uses), barrier=barrier)
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try,
                             ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.compound(node, context, group)
            return group
        if isinstance(node, ast.AugAssign):
            target = copy.deepcopy(node.target)
            _set_load(target)
            node = ast.copy_location(ast.Assign([node.target], ast.BinOp(target, node.op, node.value)), node)
        elif isinstance(node, ast.AnnAssign):
            if node.value is None:
                return group
            node = ast.copy_location(ast.Assign([node.target], node.value), node)
        calls = _HelperCalls(context.scope)
        node = calls.visit(node)
        for helper in calls.found:
            self.inline(helper, context, group)
        if isinstance(node, ast.Return) and context.inlined:
            if node.value is not None and not isinstance(node.value, ast.Name):  # a name: the caller's V
                self.emit(group, context, node, ast.Assign([ast.Name(LOCAL, ast.Store())], node.value))
        elif isinstance(node, ast.Return) and node.value is not None and not isinstance(node.value, ast.Name):
            self.emit(group, context, node, ast.Assign([ast.Name(LOCAL, ast.Store())], node.value))
            self.emit(group, context, node, ast.Return(ast.Name(LOCAL, ast.Load())))
        elif not _is_trivial(node):
            self.emit(group, context, node, node)
        return group

    def compound(self, node: ast.stmt, context: _Context, group: _Group) -> None:
        rename = _Rename(context.scope)
        last = node.body[0].lineno - 1 if node.body else node.end_lineno
        header = _unit(_header(node, rename), context.where, node.lineno, max(node.lineno, last))
        group.parts.append(header)
        group.parts.append(self.block(node.body, context))
        for title, branch in _branches(node, rename):
            if branch:
                group.parts.append(_unit(title, context.where, branch[0].lineno, branch[0].lineno))
                group.parts.append(self.block(branch, context))
        group.parts.append(_unit(END, context.where, node.lineno, node.lineno))  # shown on the header's line
        self.count += 2

    def inline(self, name: str, context: _Context, group: _Group) -> None:
        if self.count >= MAX_UNITS:
            return
        stack = (*context.stack, name)
        group.parts.append(self.body(self.helpers[name], stack, inlined=True))

    def emit(self, group: _Group, context: _Context, where: ast.stmt, node: ast.stmt) -> None:
        if self.count >= MAX_UNITS:
            return
        self.count += 1
        node = _Rename(context.scope).visit(ast.copy_location(node, where))
        group.parts.append(_unit(ast.unparse(node), context.where, where.lineno, where.end_lineno or where.lineno))


@dataclass(frozen=True)
class _Scope:
    """Names as one definition sees them: bound by it, the notebook's helpers, those inlined here."""

    local: set[str]
    helpers: set[str]
    inlinable: set[str]


@dataclass(frozen=True)
class _Context:
    where: str
    scope: _Scope
    stack: tuple[str, ...]
    inlined: bool


def _unit(text: str, where: str, first: int, last: int) -> Unit:
    return Unit(text, where, (first, last))


class _Rename(ast.NodeTransformer):
    """Bound names become ``V``, helpers left as calls become ``F``."""

    def __init__(self, scope: _Scope):
        self.scope = scope

    def visit_Name(self, node: ast.Name) -> ast.Name:
        if node.id in self.scope.local or node.id == _CALL:
            node.id = LOCAL
        elif node.id in self.scope.helpers:
            node.id = HELPER
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        """``layers.Conv2D``, ``tf.keras.layers.Conv2D`` read ``Conv2D``: how a name is imported is no answer."""
        root = node.value
        while isinstance(root, ast.Attribute):
            root = root.value
        if (isinstance(node.ctx, ast.Load) and isinstance(root, ast.Name) and root.id not in self.scope.local
                and root.id not in self.scope.helpers and root.id != _CALL):
            return ast.copy_location(ast.Name(node.attr, ast.Load()), node)
        return self.generic_visit(node)

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg, node.annotation = LOCAL, None
        return node


class _HelperCalls(ast.NodeTransformer):
    """Replaces each call of a helper by ``V`` (innermost first) and lists the helpers called."""

    def __init__(self, scope: _Scope):
        self.scope = scope
        self.found: list[str] = []

    def visit_Call(self, node: ast.Call):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in self.scope.inlinable:
            self.found.append(node.func.id)
            return ast.copy_location(ast.Name(_CALL, ast.Load()), node)
        return node

    def visit_Lambda(self, node):  # a lambda's body runs later, if at all: not inlined
        return node


def _header(node: ast.stmt, rename: _Rename) -> str:
    expr = lambda n: ast.unparse(rename.visit(n))  # noqa: E731 - a one-line helper
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return f"for {expr(node.target)} in {expr(node.iter)}:"
    if isinstance(node, ast.While):
        return f"while {expr(node.test)}:"
    if isinstance(node, ast.If):
        return f"if {expr(node.test)}:"
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return "with " + ", ".join(expr(item) for item in node.items) + ":"
    if isinstance(node, ast.Try):
        return "try:"
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return f"def {LOCAL}({expr(node.args)}):"
    return "class:"  # ast.ClassDef


def _branches(node: ast.stmt, rename: _Rename):
    """``(title, statements)`` of the blocks after a compound statement's first one."""
    if isinstance(node, ast.Try):
        for handler in node.handlers:
            kind = ast.unparse(rename.visit(handler.type)) if handler.type else ""
            yield f"except {kind}:", handler.body
        yield "finally:", node.finalbody
    orelse = getattr(node, "orelse", None)
    if orelse:
        yield "else:", orelse


def _is_noise(node: ast.stmt) -> bool:
    """Docstrings and other bare constants (strings used as comments, ``...``), and ``pass``."""
    return isinstance(node, ast.Pass) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))


def _is_trivial(node: ast.stmt) -> bool:
    """What is left of ``x = helper(...)`` or ``helper(...)`` once the helper is inlined."""
    if isinstance(node, ast.Expr):
        return isinstance(node.value, ast.Name) and node.value.id == _CALL
    return (isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id == _CALL
            and all(isinstance(t, ast.Name) for t in node.targets))


def _facts(node: ast.stmt) -> tuple[set[str], set[str], bool]:
    """What ``node`` binds or changes (``a.b = c`` and ``a[i] = c`` change ``a``), what it reads, and
    whether it must keep its place (effects and control flow, or a block holding them), in one walk."""
    defs, uses, barrier = set(), set(), False
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            (uses if isinstance(n.ctx, ast.Load) else defs).add(n.id)
        elif isinstance(n, (ast.Attribute, ast.Subscript)) and isinstance(n.ctx, (ast.Store, ast.Del)):
            base = n
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name):
                defs.add(base.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defs.add(n.name)
        elif isinstance(n, ast.alias):
            defs.add((n.asname or n.name).split(".")[0])
        elif isinstance(n, _BARRIERS) and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)):
            barrier = True
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        uses.add(node.target.id)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        barrier = False  # defining a local function has no effect yet
    return defs, uses, barrier


def _bound(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Every name the function binds: its parameters and whatever its body assigns, loops over,
    imports or defines (nested scopes included: a rename is a rename wherever it is)."""
    found = {a.arg for a in ast.walk(function.args) if isinstance(a, ast.arg)}
    for statement in function.body:
        found |= _facts(statement)[0]
        for n in ast.walk(statement):
            if isinstance(n, ast.arg):
                found.add(n.arg)
            elif isinstance(n, ast.ExceptHandler) and n.name:
                found.add(n.name)
    return found


def _set_load(node: ast.AST) -> None:
    for n in ast.walk(node):
        if hasattr(n, "ctx"):
            n.ctx = ast.Load()


def _order(groups: list[_Group]) -> list[_Group]:
    """``groups`` in canonical order: a topological order of their dependencies that takes the
    smallest text first among the statements ready (ties: as written)."""
    count = len(groups)
    after: list[list[int]] = [[] for _ in range(count)]
    waiting = [0] * count
    for j, later in enumerate(groups):
        for i in range(j):
            earlier = groups[i]
            if (earlier.barrier or later.barrier or earlier.defs & (later.uses | later.defs)
                    or earlier.uses & later.defs):
                after[i].append(j)
                waiting[j] += 1
    ready = [(groups[j].key, j) for j in range(count) if waiting[j] == 0]
    heapq.heapify(ready)
    ordered = []
    while ready:
        _, i = heapq.heappop(ready)
        ordered.append(groups[i])
        for j in after[i]:
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, (groups[j].key, j))
    return ordered
