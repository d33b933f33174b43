"""Rewrites a snippet's syntax tree so that its awaits, calls and async-with blocks report spans."""
# Standard library only, Python >= 3.9. The rewrite keeps every original node (and so every
# position the compiler and tracebacks use); it only adds calls to the recorder around them:
#
#   x = await foo(1)        ->  try:
#                                   x = _awtl_ae(_awtl_ab(3), await foo(1))
#                               except BaseException:
#                                   _awtl_af((3,)); raise
#
# The await is recorded in the frame itself, not by wrapping the awaitable in another coroutine:
# no extra frame per await (the prototype's coroutine wrapper cost 1.6x on a sleep(0) loop), and
# `try` costs nothing in 3.11 until something raises. A function body becomes
#
#   _awtl_sb(7)
#   try: <body>
#   except BaseException: _awtl_sx(7); raise
#   finally: _awtl_se(7)
#
# and `async with` blocks get the same shape around the whole statement (TaskGroup waits). No
# local variable is added: locals() reads as under plain python3 (the recorder finds the open
# scope through the current span and the calling frame).

import ast
import re

# Helper names the instrumented code calls; the runner puts them into builtins so the snippet's
# globals() stay as they would be under plain python3. One leading underscore only: a double one
# would be name-mangled inside class bodies.
AWAIT_BEGIN = '_awtl_ab'
AWAIT_END = '_awtl_ae'
AWAIT_FAILED = '_awtl_af'
SCOPE_BEGIN = '_awtl_sb'
SCOPE_RAISED = '_awtl_sx'
SCOPE_END = '_awtl_se'
AS_COMPLETED = '_awtl_ac'

MAX_LABEL = 120
# Awaited calls of these read as combinators (their span stands for waiting on several things).
COMBINATOR_CALLS = frozenset(['gather', 'wait', 'wait_for', 'shield', 'as_completed'])
# `async with` on these is a wait on a group of tasks or a deadline.
COMBINATOR_SCOPES = frozenset(['TaskGroup', 'timeout', 'timeout_at'])


class Site:
    """A place in the snippet that produces spans."""

    __slots__ = ('kind', 'label', 'line', 'column', 'params')

    def __init__(self, kind, label, line, column, params=None):
        self.kind = kind
        self.label = label
        self.line = line
        self.column = column
        # For call sites: (positional names, *args name, keyword-only names, **kwargs name).
        self.params = params

    def to_json(self):
        return {'kind': self.kind, 'label': self.label, 'line': self.line, 'column': self.column}


def shorten(text):
    text = re.sub(r'\s+', ' ', text).strip()
    return text if len(text) <= MAX_LABEL else text[:MAX_LABEL - 1] + '\u2026'


class Instrumented:
    """The result of instrumenting one snippet."""

    def __init__(self, tree, sites, line_labels):
        self.tree = tree
        self.sites = sites
        # line -> (label, column) for block spans: the statement the event loop was stuck on.
        self.line_labels = line_labels


def instrument(source, filename):
    """Parses and rewrites `source`; raises SyntaxError as compile() would."""
    tree = ast.parse(source, filename, 'exec')
    lines = source.splitlines()
    line_labels = _line_labels(tree, source, lines)
    rewriter = _Rewriter(source, lines)
    tree = rewriter.visit(tree)
    return Instrumented(tree, rewriter.sites, line_labels)


def _called_name(node):
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute):
            return func.attr
        if isinstance(func, ast.Name):
            return func.id
    return None


def _column(lines, lineno, col_offset):
    """ast columns are UTF-8 byte offsets; the timeline wants 1-based characters."""
    if 1 <= lineno <= len(lines):
        line = lines[lineno - 1]
        if not line.isascii():
            return len(line.encode('utf-8')[:col_offset].decode('utf-8', 'replace')) + 1
    return col_offset + 1


def _line_labels(tree, source, lines):
    labels = {}
    # ast.walk is breadth first: inner statements come later and overwrite their parents' lines.
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        end = getattr(node, 'end_lineno', None) or node.lineno
        body = getattr(node, 'body', None)
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            # A compound statement: its header lines read as themselves.
            for line in range(node.lineno, max(node.lineno, body[0].lineno - 1) + 1):
                if 1 <= line <= len(lines):
                    text = lines[line - 1].strip()
                    labels[line] = (shorten(text), len(lines[line - 1]) - len(lines[line - 1].lstrip()) + 1)
            continue
        segment = ast.get_source_segment(source, node) or ''
        entry = (shorten(segment), _column(lines, node.lineno, node.col_offset))
        for line in range(node.lineno, end + 1):
            labels[line] = entry
    return labels


def _contains_yield(func):
    """True when `func` is a generator: its own body (not nested scopes) yields."""
    stack = list(func.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return False


def _locate(node, ref):
    """Gives every new node without a position the whole range of `ref`."""
    for child in ast.walk(node):
        if 'lineno' in child._attributes and not hasattr(child, 'lineno'):
            child.lineno = ref.lineno
            child.col_offset = ref.col_offset
            child.end_lineno = getattr(ref, 'end_lineno', ref.lineno)
            child.end_col_offset = getattr(ref, 'end_col_offset', ref.col_offset)
    return node


def _call(name, *args):
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


def _guarded(body, site, ref):
    """`begin(site)` precedes it; wraps `body` so that the scope always ends, rejected on a raise."""
    return _locate(ast.Try(
        body=body or [ast.Pass()],
        handlers=[ast.ExceptHandler(
            type=ast.Name(id='BaseException', ctx=ast.Load()), name=None,
            body=[ast.Expr(_call(SCOPE_RAISED, ast.Constant(value=site))), ast.Raise(exc=None, cause=None)],
        )],
        orelse=[],
        finalbody=[ast.Expr(_call(SCOPE_END, ast.Constant(value=site)))],
    ), ref)


class _Rewriter(ast.NodeTransformer):
    def __init__(self, source, lines):
        self.source = source
        self.lines = lines
        self.sites = []
        # Await sites directly inside the statement being visited (one list per open statement).
        self.statement_sites = []
        self.class_names = []
        self.function_depth = 0

    def add_site(self, kind, label, node, params=None):
        self.sites.append(Site(kind, shorten(label), node.lineno, _column(self.lines, node.lineno, node.col_offset), params))
        return len(self.sites) - 1

    def segment(self, node):
        return ast.get_source_segment(self.source, node) or ast.unparse(node)

    def visit(self, node):
        if not isinstance(node, ast.stmt):
            return super().visit(node)
        self.statement_sites.append([])
        result = super().visit(node)
        sites = self.statement_sites.pop()
        if not sites:
            return result
        # An await in this statement raised (or was cancelled): close its span as rejected.
        body = result if isinstance(result, list) else [result]
        handler_body = [
            ast.Expr(_call(AWAIT_FAILED, ast.Tuple(elts=[ast.Constant(value=i) for i in sites], ctx=ast.Load()))),
            ast.Raise(exc=None, cause=None),
        ]
        return _locate(ast.Try(
            body=body,
            handlers=[ast.ExceptHandler(type=ast.Name(id='BaseException', ctx=ast.Load()), name=None, body=handler_body)],
            orelse=[], finalbody=[],
        ), node)

    def visit_Await(self, node):
        label = self.segment(node.value)
        kind = 'combinator' if _called_name(node.value) in COMBINATOR_CALLS else 'await'
        site = self.add_site(kind, label, node)
        self.generic_visit(node)
        if self.statement_sites:
            self.statement_sites[-1].append(site)
        wrapped = _call(AWAIT_END, _call(AWAIT_BEGIN, ast.Constant(value=site)), node)
        return _locate(wrapped, node)

    def visit_Call(self, node):
        self.generic_visit(node)
        if _called_name(node) != 'as_completed':
            return node
        site = self.add_site('combinator', self.segment(node), node)
        return _locate(_call(AS_COMPLETED, ast.Constant(value=site), node), node)

    def visit_ClassDef(self, node):
        self.class_names.append(node.name)
        saved = self.function_depth
        self.function_depth = 0
        self.generic_visit(node)
        self.function_depth = saved
        self.class_names.pop()
        return node

    def visit_FunctionDef(self, node):
        return self._function(node)

    def visit_AsyncFunctionDef(self, node):
        return self._function(node)

    def _function(self, node):
        name = node.name
        if self.class_names and self.function_depth == 0:
            name = self.class_names[-1] + '.' + name
        is_method = bool(self.class_names) and self.function_depth == 0
        self.function_depth += 1
        saved_classes = self.class_names
        self.class_names = []
        self.generic_visit(node)
        self.class_names = saved_classes
        self.function_depth -= 1
        if _contains_yield(node):
            # A generator's body runs in its consumer's context, piecewise: no call span.
            return node
        args = node.args
        positional = [a.arg for a in getattr(args, 'posonlyargs', [])] + [a.arg for a in args.args]
        decorators = {d.id for d in node.decorator_list if isinstance(d, ast.Name)}
        if is_method and positional and 'staticmethod' not in decorators:
            positional = positional[1:]  # self / cls
        params = (
            positional,
            args.vararg.arg if args.vararg else None,
            [a.arg for a in args.kwonlyargs],
            args.kwarg.arg if args.kwarg else None,
        )
        site = self.add_site('call', name, node, params)
        body = node.body
        head = []
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            head, body = body[:1], body[1:]
        ref = body[0] if body else node
        begin = _locate(ast.Expr(_call(SCOPE_BEGIN, ast.Constant(value=site))), ref)
        node.body = head + [begin, _guarded(body, site, ref)]
        return node

    def visit_AsyncWith(self, node):
        parts = []
        for item in node.items:
            text = self.segment(item.context_expr)
            if item.optional_vars is not None:
                text += ' as ' + self.segment(item.optional_vars)
            parts.append(text)
        first = node.items[0].context_expr
        kind = 'combinator' if _called_name(first) in COMBINATOR_SCOPES else 'await'
        site = self.add_site(kind, 'async with ' + ', '.join(parts), node)
        self.generic_visit(node)
        begin = _locate(ast.Expr(_call(SCOPE_BEGIN, ast.Constant(value=site))), node)
        return [begin, _guarded([node], site, node)]
