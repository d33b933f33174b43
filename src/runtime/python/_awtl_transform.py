"""Rewrites a snippet's syntax tree so that its awaits, calls and async-with blocks report spans."""
# Standard library only, Python >= 3.9. The rewrite keeps every original node (and so every
# position the compiler and tracebacks use); it only adds calls to the recorder around them:
#
#   x = await foo(1)        ->  try:
#                                   x = _awtl_ae(_awtl_ab(3), await foo(1))
#                               except BaseException:
#                                   _awtl_af((3,)); raise
#
# (without the `try` when nothing of the program's can run between the statement and its
# function's `finally`, which then closes the await's span: see _Rewriter.visit_statement).
# The await is recorded in the frame itself, not by wrapping the awaitable in another coroutine:
# no extra frame per await (the prototype's coroutine wrapper cost 1.6x on a sleep(0) loop), and
# `try` costs nothing in 3.11 until something raises. A function body becomes
#
#   _awtl_sb(7)
#   try: <body>
#   finally: _awtl_sf(7)        (which tells a raise from a return by the exception's traceback)
#
# and `async with` blocks get the shape `try: <with> except BaseException: _awtl_sx(7); raise
# finally: _awtl_se(7)` around the whole statement (TaskGroup waits). No
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
# A function's `finally`: ends its call span, rejected when the function is raising.
SCOPE_FINALLY = '_awtl_sf'
AS_COMPLETED = '_awtl_ac'
# An await or `async with` whose callee may be one of asyncio's combinators: the runtime opens the
# combinator span under the await only when the callee *is* that function (see the recorder).
AWAIT_MAYBE_COMBINATOR = '_awtl_aq'
SCOPE_MAYBE_COMBINATOR = '_awtl_sq'
# A list indexed by site: scopes still open (a call that was not recorded ends without calling
# the recorder).
SITE_OPEN = '_awtl_o'
# Per site, an iterator that says whether the site is past its cap and counts what it drops, and
# the builtin next() (by our name: the program may have one of its own). Below the cap next()
# gives False and the recorder is called; the recorder puts another iterator in its place as the
# site records its last span, whose next() gives True and counts, in C and without making any
# object, what was not recorded (see _awtl_recorder.past_cap). One call decides and counts.
# The iterator is a name of its own per site, `_awtl_d7` for site 7 (Instrumented.counted): a
# list and an index to look it up in cost a sixth of what the test adds to an await or a call.
RECURSION_ERROR = '_awtl_rx'
SITE_DROPPED = '_awtl_d'
NEXT = '_awtl_nx'
# A statement that drops what a call returned, when that may be a task or a coroutine nobody awaits
# (`asyncio.create_task(job())`, `work()` of an `async def work`): `_awtl_fl(site, <call>)` notes it
# and returns it unchanged.
FLOATING = '_awtl_fl'
# Calls whose dropped result is a task nobody keeps (TaskGroup's are told apart at run time).
TASK_CALLS = frozenset(['create_task', 'ensure_future'])

MAX_LABEL = 120
# Names under which asyncio's combinators are usually called. A name only makes a site a candidate:
# whether the call is asyncio's is decided at run time, by identity (a user's own `wait()` or
# `as_completed()` is a plain call). `from asyncio import gather as g` adds `g`.
COMBINATOR_CALLS = frozenset(['gather', 'wait', 'wait_for', 'shield'])
AS_COMPLETED_CALLS = frozenset(['as_completed'])
# `async with` on these waits on a group of tasks or a deadline.
COMBINATOR_SCOPES = frozenset(['TaskGroup', 'timeout', 'timeout_at'])


class Site:
    """A place in the snippet that produces spans."""

    __slots__ = ('kind', 'label', 'line', 'column', 'params', 'scope', 'awaits')

    def __init__(self, kind, label, line, column, params=None):
        self.kind = kind
        self.label = label
        self.line = line
        self.column = column
        # For call sites: (positional names, *args name, keyword-only names, **kwargs name).
        self.params = params
        # An await whose statement has no `try` of its own: the site of the function whose
        # `finally` closes it when it raises (see _Rewriter.visit_statement), else None.
        self.scope = None
        # A function's call site: those awaits (their sites), closed by its `finally`.
        self.awaits = ()

    def to_json(self):
        return {'kind': self.kind, 'label': self.label, 'line': self.line, 'column': self.column}


class _Source:
    """The snippet's text cut at its lines once, so that taking a node's text costs its length.

    ast.get_source_segment splits the whole file on every call (quadratic: a 1,600-line file took
    seconds before its first line ran). Lines end as the tokenizer ends them (\\r\\n, \\n, \\r), not
    as str.splitlines does (form feeds and the like are not line ends); columns are UTF-8 bytes.
    """

    __slots__ = ('lines', 'raw')

    def __init__(self, source):
        if _ODD_LINE_END.search(source) is None:
            # Only \n, \r\n and \r end lines here: str.splitlines cuts where the tokenizer does
            # (and much faster than the pattern below); a final line end leaves an empty last line.
            self.raw = source.splitlines(True)
            if not source or source[-1] in '\r\n':
                self.raw.append('')
            # Text of each line without its end, 0-based.
            self.lines = source.splitlines()
            if len(self.lines) < len(self.raw):
                self.lines.append('')
        else:
            self.raw = _LINE_END.split(source)
            self.lines = [line.rstrip('\r\n') for line in self.raw]

    def segment(self, node):
        lineno = getattr(node, 'lineno', None)
        end_lineno = getattr(node, 'end_lineno', None)
        col = getattr(node, 'col_offset', None)
        end_col = getattr(node, 'end_col_offset', None)
        if lineno is None or end_lineno is None or col is None or end_col is None:
            return None
        raw = self.raw
        if not (1 <= lineno <= end_lineno <= len(raw)):
            return None
        first = raw[lineno - 1]
        if lineno == end_lineno:
            return _cut(first, col, end_col)
        parts = [_cut(first, col, None)]
        parts.extend(raw[lineno:end_lineno - 1])
        parts.append(_cut(raw[end_lineno - 1], 0, end_col))
        return ''.join(parts)


_LINE_END = re.compile(r'(?<=\r\n)|(?<=\n)|(?<=\r)(?!\n)')
# What str.splitlines also takes for a line end, and the tokenizer does not.
_ODD_LINE_END = re.compile('[\v\f\x1c\x1d\x1e\x85\u2028\u2029]')


def _cut(line, start, end):
    """line[start:end] with start and end in UTF-8 bytes, as ast gives columns."""
    if line.isascii():
        return line[start:end]
    data = line.encode('utf-8')
    return data[start:end].decode('utf-8', 'replace')


_SPACES = re.compile(r'\s+')


def shorten(text):
    # Printable text without two spaces in a row has no run of white space to fold (the common
    # case: one line of code); anything else goes through the pattern.
    if '  ' in text or not text.isprintable():
        text = _SPACES.sub(' ', text)
    text = text.strip()
    return text if len(text) <= MAX_LABEL else text[:MAX_LABEL - 1] + '\u2026'


class Instrumented:
    """The result of instrumenting one snippet."""

    def __init__(self, tree, sites, line_labels, definitions, counted=()):
        self.tree = tree
        self.sites = sites
        # line -> (label, column) for block spans: the statement the event loop was stuck on.
        self.line_labels = line_labels
        # (first line of the function's code, name) -> call site index: a task whose coroutine is
        # one of the snippet's functions stands for that call (see the span model in timeline.ts).
        self.definitions = definitions
        # The sites whose code tests their SITE_DROPPED iterator, by name (see _past_cap).
        self.counted = counted


def instrument(source, filename, cap=1000):
    """Parses and rewrites `source`; raises SyntaxError as compile() would.

    `cap` is the number of spans a site records; the recorder keeps it (see SITE_DROPPED): past it
    a call costs a list lookup and a call in C, no call of the recorder.
    """
    import gc
    # A syntax tree is hundreds of thousands of objects without cycles: the collector would walk
    # all of them again and again while new nodes are made (it took most of the time).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        tree = ast.parse(source, filename, 'exec')
        text = _Source(source)
        rewriter = _Rewriter(text, text.lines, cap)
        # Names of the snippet's coroutine functions: a statement calling one only makes a coroutine.
        rewriter.async_names = _async_function_names(tree) if 'async' in source else set()
        tree = rewriter.visit(tree)
    finally:
        if was_enabled:
            gc.enable()
    return Instrumented(tree, rewriter.sites, rewriter.line_labels, rewriter.definitions, rewriter.counted)


def _async_function_names(tree):
    """The names of every `async def` in the tree. Definitions are statements, and statements sit
    only in other statements' bodies: the walk skips expressions (most of the tree)."""
    names = set()
    todo = [tree]
    pop = todo.pop
    push = todo.extend
    while todo:
        node = pop()
        kind = type(node)
        if kind is ast.AsyncFunctionDef:
            names.add(node.name)
        fields = _STATEMENT_FIELDS.get(kind)
        if fields is None:
            continue
        for field in fields:
            push(getattr(node, field, None) or ())
    return names


# Where a node of each kind holds statements (or handlers and match cases, which hold them).
_STATEMENT_FIELDS = {
    ast.Module: ('body',), ast.Interactive: ('body',),
    ast.FunctionDef: ('body',), ast.AsyncFunctionDef: ('body',), ast.ClassDef: ('body',),
    ast.For: ('body', 'orelse'), ast.AsyncFor: ('body', 'orelse'), ast.While: ('body', 'orelse'),
    ast.If: ('body', 'orelse'), ast.With: ('body',), ast.AsyncWith: ('body',),
    ast.Try: ('body', 'handlers', 'orelse', 'finalbody'), ast.ExceptHandler: ('body',),
}
for _name, _fields in (('TryStar', ('body', 'handlers', 'orelse', 'finalbody')), ('Match', ('cases',)), ('match_case', ('body',))):
    if hasattr(ast, _name):  # 3.10 (match), 3.11 (except*)
        _STATEMENT_FIELDS[getattr(ast, _name)] = _fields


def _callee_path(func):
    """`asyncio.gather` -> 'gather' when the callee is a plain dotted name (safe to read twice)."""
    node = func
    while isinstance(node, ast.Attribute):
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return func.attr if isinstance(func, ast.Attribute) else func.id


def _column(lines, lineno, col_offset):
    """ast columns are UTF-8 byte offsets; the timeline wants 1-based characters."""
    if 1 <= lineno <= len(lines):
        line = lines[lineno - 1]
        if not line.isascii():
            return len(line.encode('utf-8')[:col_offset].decode('utf-8', 'replace')) + 1
    return col_offset + 1


# New nodes are made as the parser makes them: the fields set at once, without the constructor
# (ast.Name(id=..., ctx=..., lineno=...) checks and sets each keyword in turn: four times slower, and
# the new nodes outnumber the snippet's own three to one). Every field a node needs is given.
_new = ast.AST.__new__
_LOAD = ast.Load()
_NOT = ast.Not()


class _At:
    """Builds new nodes at the whole range of `ref`, positions given at construction (walking the
    new nodes afterwards to place them cost as much as the rest of instrumenting)."""

    __slots__ = ('pos',)

    def __init__(self, ref):
        line = ref.lineno
        col = ref.col_offset
        self.pos = {'lineno': line, 'col_offset': col,
                    'end_lineno': getattr(ref, 'end_lineno', None) or line,
                    'end_col_offset': getattr(ref, 'end_col_offset', None) or col}

    def node(self, cls, **fields):
        node = _new(cls)
        fields.update(self.pos)
        node.__dict__ = fields
        return node

    def name(self, name):
        node = _new(ast.Name)
        node.__dict__ = {'id': name, 'ctx': _LOAD, **self.pos}
        return node

    def const(self, value):
        node = _new(ast.Constant)
        node.__dict__ = {'value': value, 'kind': None, **self.pos}
        return node

    def call(self, name, *args):
        node = _new(ast.Call)
        node.__dict__ = {'func': self.name(name), 'args': list(args), 'keywords': [], **self.pos}
        return node

    def site_item(self, table, site):
        node = _new(ast.Subscript)
        node.__dict__ = {'value': self.name(table), 'slice': self.const(site), 'ctx': _LOAD, **self.pos}
        return node

    def stmt(self, call):
        node = _new(ast.Expr)
        node.__dict__ = {'value': call, **self.pos}
        return node

    def if_open(self, site, helper):
        """`if _awtl_o[site]: try: helper(site) except RecursionError: pass`

        At the recursion limit the helper's own call raises RecursionError: swallowed, so that the
        program's exception goes on alone (python3 shows no second one chained to it); the
        recorder closes what was left open at the next level up."""
        call = self.stmt(self.call(helper, self.const(site)))
        guarded = self.node(ast.Try, body=[call], handlers=[self.node(
            ast.ExceptHandler, type=self.name('RecursionError'), name=None, body=[self.node(ast.Pass)])],
            orelse=[], finalbody=[])
        return self.node(ast.If, test=self.site_item(SITE_OPEN, site), body=[guarded], orelse=[])

    def reraise(self, body):
        return self.node(ast.ExceptHandler, type=self.name('BaseException'), name=None,
                         body=body + [self.node(ast.Raise, exc=None, cause=None)])


def _guarded(body, site, ref):
    """Wraps an `async with` statement so that its recorded scope always ends, rejected on a raise.

    The recorder is called only when a scope of this site is open (SITE_OPEN): past the cap a
    block costs two list lookups and no call.
    """
    at = _At(ref)
    return at.node(
        ast.Try,
        body=body or [at.node(ast.Pass)],
        handlers=[at.reraise([at.if_open(site, SCOPE_RAISED)])],
        orelse=[],
        finalbody=[at.if_open(site, SCOPE_END)],
    )


# The code added for every function, await and statement is built below without a call per node,
# and its leaves (names, the site's number) are made once and shared within it: a tree that only
# compile() reads may hold a node more than once (it is converted at each place), and there are
# tens of thousands of these on a long file (each one made, converted and freed before line 1).
_Name = ast.Name
_Constant = ast.Constant
_Call = ast.Call
_Expr = ast.Expr
_Subscript = ast.Subscript
_Try = ast.Try
_If = ast.If
_ExceptHandler = ast.ExceptHandler
_Raise = ast.Raise
_Pass = ast.Pass
_UnaryOp = ast.UnaryOp
_IfExp = ast.IfExp
_Tuple = ast.Tuple


def _position(ref):
    """The whole range of `ref`, as _At places new nodes: (line, column, end line, end column)."""
    line = ref.lineno
    col = ref.col_offset
    return line, col, getattr(ref, 'end_lineno', None) or line, getattr(ref, 'end_col_offset', None) or col


def _past_cap(site, ln, co, eln, eco):
    """`_awtl_nx(_awtl_d<site>)`, at the given range: whether this call or await is past its
    site's cap (see _function_wrapper and _recorded_await)."""
    new = _new
    nx = new(_Name)
    nx.__dict__ = {'id': NEXT, 'ctx': _LOAD, 'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    dropped = new(_Name)
    dropped.__dict__ = {'id': SITE_DROPPED + str(site), 'ctx': _LOAD,
                        'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    past = new(_Call)
    past.__dict__ = {'func': nx, 'args': [dropped], 'keywords': [],
                     'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    return past


def _function_wrapper(body, site, ref):
    """A function's added code, at `ref`: the statements that begin its call span and the `try`
    that holds its body (what `_function` documents, as _At would build it)."""
    new = _new
    ln, co, eln, eco = _position(ref)
    c = new(_Constant)
    c.__dict__ = {'value': site, 'kind': None, 'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    recursion = new(_Name)
    recursion.__dict__ = {'id': 'RecursionError', 'ctx': _LOAD,
                          'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    # if not _awtl_nx(_awtl_d<site>): try: _awtl_sb(site) except RecursionError: raise _awtl_rx()
    past = _past_cap(site, ln, co, eln, eco)
    test = new(_UnaryOp)
    test.__dict__ = {'op': _NOT, 'operand': past,
                     'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    sb = new(_Name)
    sb.__dict__ = {'id': SCOPE_BEGIN, 'ctx': _LOAD,
                   'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    sb_call = new(_Call)
    sb_call.__dict__ = {'func': sb, 'args': [c], 'keywords': [],
                        'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    sb_stmt = new(_Expr)
    sb_stmt.__dict__ = {'value': sb_call, 'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    rx = new(_Name)
    rx.__dict__ = {'id': RECURSION_ERROR, 'ctx': _LOAD,
                   'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    rx_call = new(_Call)
    rx_call.__dict__ = {'func': rx, 'args': [], 'keywords': [],
                        'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    reraise = new(_Raise)
    reraise.__dict__ = {'exc': rx_call, 'cause': None,
                        'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    handler = new(_ExceptHandler)
    handler.__dict__ = {'type': recursion, 'name': None, 'body': [reraise],
                        'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    guard = new(_Try)
    guard.__dict__ = {'body': [sb_stmt], 'handlers': [handler], 'orelse': [], 'finalbody': [],
                      'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    begin = new(_If)
    begin.__dict__ = {'test': test, 'body': [guard], 'orelse': [],
                      'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    # try: <body> finally: if _awtl_o[site]: try: _awtl_sf(site) except RecursionError: pass
    # (see _At.if_open). No `except` clause: the recorder tells a raise from a return itself (an
    # exception leaving this frame has the frame at the head of its traceback). The compiler
    # writes a `finally` twice, and once more per `return`: each node less here is start-up time
    # saved on a long file.
    site_open = new(_Name)
    site_open.__dict__ = {'id': SITE_OPEN, 'ctx': _LOAD,
                          'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    is_open = new(_Subscript)
    is_open.__dict__ = {'value': site_open, 'slice': c, 'ctx': _LOAD,
                        'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    sf = new(_Name)
    sf.__dict__ = {'id': SCOPE_FINALLY, 'ctx': _LOAD,
                   'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    sf_call = new(_Call)
    sf_call.__dict__ = {'func': sf, 'args': [c], 'keywords': [],
                        'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    sf_stmt = new(_Expr)
    sf_stmt.__dict__ = {'value': sf_call, 'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    swallow = new(_Pass)
    swallow.__dict__ = {'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    handler = new(_ExceptHandler)
    handler.__dict__ = {'type': recursion, 'name': None, 'body': [swallow],
                        'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    guard = new(_Try)
    guard.__dict__ = {'body': [sf_stmt], 'handlers': [handler], 'orelse': [], 'finalbody': [],
                      'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    end = new(_If)
    end.__dict__ = {'test': is_open, 'body': [guard], 'orelse': [],
                    'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    if not body:
        empty = new(_Pass)
        empty.__dict__ = {'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
        body = [empty]
    held = new(_Try)
    held.__dict__ = {'body': body, 'handlers': [], 'orelse': [], 'finalbody': [end],
                     'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    return begin, held


def _recorded_await(node, site, candidate, in_loop):
    """An await, recorded (see visit_Await): `_awtl_ae(_awtl_ab(site), await x)`, or with the
    combinator's callee `_awtl_aq(site, callee)`; in a loop with its past-cap branch."""
    new = _new
    ln, co, eln, eco = _position(node)
    c = new(_Constant)
    c.__dict__ = {'value': site, 'kind': None, 'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    if candidate is not None:
        # The callee is a plain dotted name: reading it once more has no side effect.
        f = new(_Name)
        f.__dict__ = {'id': AWAIT_MAYBE_COMBINATOR, 'ctx': _LOAD,
                      'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
        begin = new(_Call)
        begin.__dict__ = {'func': f, 'args': [c, _copy_name(candidate)], 'keywords': [],
                          'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    else:
        f = new(_Name)
        f.__dict__ = {'id': AWAIT_BEGIN, 'ctx': _LOAD,
                      'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
        begin = new(_Call)
        begin.__dict__ = {'func': f, 'args': [c], 'keywords': [],
                          'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    f = new(_Name)
    f.__dict__ = {'id': AWAIT_END, 'ctx': _LOAD,
                  'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    recorded = new(_Call)
    if not in_loop:
        recorded.__dict__ = {'func': f, 'args': [begin, node], 'keywords': [],
                             'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
        return recorded
    recorded.__dict__ = {'func': f, 'args': [begin, _copy_tree(node)], 'keywords': [],
                         'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    # (await x) if _awtl_nx(_awtl_d<s>) else _awtl_ae(_awtl_ab(s), await x)
    past = _past_cap(site, ln, co, eln, eco)
    choice = new(_IfExp)
    choice.__dict__ = {'test': past, 'body': node, 'orelse': recorded,
                       'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    return choice


def _statement_failed(node, body, sites):
    """`try: <statement> except BaseException: _awtl_af((sites...)); raise` at `node`."""
    new = _new
    ln, co, eln, eco = _position(node)
    elts = []
    for i in sites:
        c = new(_Constant)
        c.__dict__ = {'value': i, 'kind': None,
                      'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
        elts.append(c)
    t = new(_Tuple)
    t.__dict__ = {'elts': elts, 'ctx': _LOAD, 'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    f = new(_Name)
    f.__dict__ = {'id': AWAIT_FAILED, 'ctx': _LOAD,
                  'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    call = new(_Call)
    call.__dict__ = {'func': f, 'args': [t], 'keywords': [],
                     'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    failed = new(_Expr)
    failed.__dict__ = {'value': call, 'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    again = new(_Raise)
    again.__dict__ = {'exc': None, 'cause': None,
                      'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    kind = new(_Name)
    kind.__dict__ = {'id': 'BaseException', 'ctx': _LOAD,
                     'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    handler = new(_ExceptHandler)
    handler.__dict__ = {'type': kind, 'name': None, 'body': [failed, again],
                        'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    guard = new(_Try)
    guard.__dict__ = {'body': body, 'handlers': [handler], 'orelse': [], 'finalbody': [],
                      'lineno': ln, 'col_offset': co, 'end_lineno': eln, 'end_col_offset': eco}
    return guard


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _all_kinds(base):
    kinds = set()
    todo = [base]
    while todo:
        kind = todo.pop()
        kinds.add(kind)
        todo.extend(kind.__subclasses__())
    return kinds


_STATEMENTS = frozenset(_all_kinds(ast.stmt) - {ast.stmt})
# Nodes with nothing inside to visit: names, constants and operators (most of a tree's nodes).
_LEAVES = frozenset(
    {ast.Name, ast.Constant} | _all_kinds(ast.expr_context) | _all_kinds(ast.operator) | _all_kinds(ast.boolop)
    | _all_kinds(ast.unaryop) | _all_kinds(ast.cmpop))
_SKIP_FIELDS = frozenset(['ctx', 'type_comment'])
# Statements that hold other statements, but `if` (whose body is in the flow of its own).
_HOLDERS = frozenset(kind for kind in _STATEMENT_FIELDS if issubclass(kind, ast.stmt)) - {ast.If}
_BODY = ('body',)


class _Rewriter:
    """One pass over the tree: sites, line labels and the rewrite (each node is visited once)."""

    def __init__(self, source, lines, cap):
        self.source = source
        self.lines = lines
        self.cap = cap
        self.sites = []
        self.line_labels = {}
        self.definitions = {}
        # The sites whose code tests SITE_DROPPED (Instrumented.counted).
        self.counted = []
        # Await sites directly inside the statement being visited (one list per open statement).
        self.statement_sites = []
        # Whether the statement being visited is in the direct flow of a function that gets the
        # `try` whose `finally` ends its call span: only `if` statements between it and the
        # function's body (no loop, `with`, `try` or `match`), the function no generator.
        self.direct = False
        # The await sites the function being visited closes in that `finally` (None: no function).
        self.function_awaits = None
        # Await sites inside a loop or a comprehension of their function.
        self.looped = set()
        self.class_names = []
        self.function_depth = 0
        # One flag per function being visited: whether its own body yields (a generator).
        self.yields = []
        # Loops around the node being visited, in the function being visited (one entry per function).
        self.loops = [0]
        self.combinator_names = set(COMBINATOR_CALLS)
        self.as_completed_names = set(AS_COMPLETED_CALLS)
        self.scope_names = set(COMBINATOR_SCOPES)
        self.async_names = set()
        self.dispatch = {
            ast.Await: self.visit_Await,
            ast.Call: self.visit_Call,
            ast.ClassDef: self.visit_ClassDef,
            ast.FunctionDef: self._function,
            ast.AsyncFunctionDef: self._function,
            ast.Lambda: self.visit_Lambda,
            ast.AsyncWith: self.visit_AsyncWith,
            ast.Yield: self.visit_Yield,
            ast.YieldFrom: self.visit_Yield,
            ast.For: self.visit_loop,
            ast.AsyncFor: self.visit_loop,
            ast.While: self.visit_loop,
            ast.ListComp: self.visit_loop,
            ast.SetComp: self.visit_loop,
            ast.DictComp: self.visit_loop,
            ast.GeneratorExp: self.visit_loop,
            ast.ImportFrom: self.visit_ImportFrom,
        }

    def add_site(self, kind, label, node, params=None):
        self.sites.append(Site(kind, shorten(label), node.lineno, _column(self.lines, node.lineno, node.col_offset), params))
        return len(self.sites) - 1

    def segment(self, node):
        return self.source.segment(node) or ast.unparse(node)

    # -- traversal -------------------------------------------------------------------------------
    def visit(self, node):
        kind = type(node)
        if kind in _LEAVES:
            return node
        if kind in _STATEMENTS:
            return self.visit_statement(node)
        method = self.dispatch.get(kind)
        if method is not None:
            return method(node)
        self.generic_visit(node)
        return node

    def generic_visit(self, node, fields=None):
        visit = self.visit
        for field in fields or node._fields:
            if field in _SKIP_FIELDS:
                continue
            value = getattr(node, field, None)
            if type(value) is list:
                out = None
                for i, item in enumerate(value):
                    if not isinstance(item, ast.AST):
                        if out is not None:
                            out.append(item)
                        continue
                    new = visit(item)
                    if new is item and out is None:
                        continue
                    if out is None:
                        out = value[:i]
                    if type(new) is list:
                        out.extend(new)
                    else:
                        out.append(new)
                if out is not None:
                    setattr(node, field, out)
            elif isinstance(value, ast.AST):
                new = visit(value)
                if new is not value:
                    setattr(node, field, new)

    def visit_statement(self, node):
        text = self._label_lines(node)
        header = self.line_labels.get(node.lineno)
        self.statement_sites.append([])
        kind = type(node)
        direct = self.direct
        if direct and kind in _HOLDERS:
            self.direct = False  # what is inside this statement
        method = self.dispatch.get(kind)
        if method is not None:
            result = method(node)
        elif type(node) is ast.Expr and type(node.value) is ast.Call and self._may_float(node.value):
            if text is None or self._may_hold(text):
                self.generic_visit(node)
            call = node.value
            site = self.add_site('call', self.segment(call), call)
            at = _At(call)
            node.value = at.call(FLOATING, at.const(site), call)
            result = node
        else:
            # A simple statement whose text has no await, yield or as_completed has nothing to
            # rewrite: its expressions need not be walked (most of a big file).
            if text is None or self._may_hold(text):
                self.generic_visit(node)
            result = node
        if type(node) is ast.While and all(_does_nothing(b) for b in node.body):
            # `while cond: pass` spins on its condition: its blocks read as the `while` line.
            if header is not None:
                for b in node.body:
                    for line in range(b.lineno, (b.end_lineno or b.lineno) + 1):
                        self.line_labels[line] = header
        self.direct = direct
        sites = self.statement_sites.pop()
        if not sites:
            return result
        if direct and self.looped.isdisjoint(sites):
            # What this statement raises goes straight to its function's `finally`, no code of the
            # program's in between (no handler, no `with` exit, no loop's iterator let go): that
            # `finally` closes the spans of these awaits as the `except` below would, and this
            # statement needs none of its own (a `try` per statement was a fifth of the code
            # added to a file, and of the time to compile it).
            self.function_awaits.extend(sites)
            return result
        # An await in this statement raised (or was cancelled): close its span as rejected.
        return _statement_failed(node, result if isinstance(result, list) else [result], sites)

    def _may_float(self, call):
        """A call whose dropped result may be a task or coroutine nobody awaits."""
        func = call.func
        name = func.id if type(func) is ast.Name else func.attr if type(func) is ast.Attribute else None
        return name is not None and (name in TASK_CALLS or name in self.async_names)

    def _label_lines(self, node):
        """Block labels: a line reads as the innermost statement on it (compound: its header)."""
        lines = self.lines
        labels = self.line_labels
        body = getattr(node, 'body', None)
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            for line in range(node.lineno, max(node.lineno, body[0].lineno - 1) + 1):
                if 1 <= line <= len(lines):
                    text = lines[line - 1]
                    labels[line] = (shorten(text), len(text) - len(text.lstrip()) + 1)
            return
        end = getattr(node, 'end_lineno', None) or node.lineno
        text = self.source.segment(node) or ''
        entry = (shorten(text), _column(lines, node.lineno, node.col_offset))
        for line in range(node.lineno, end + 1):
            labels[line] = entry
        return text

    def _header(self, node):
        """The text before a compound statement's first inner statement (a superset of its header:
        decorators, parameters, annotations), to tell whether it needs walking."""
        body = node.body
        first = node.decorator_list[0].lineno if getattr(node, 'decorator_list', None) else node.lineno
        if not body or not (1 <= first <= body[0].lineno <= len(self.lines)):
            return 'await'  # walk it
        lines = self.lines
        start = body[0].lineno
        # Columns are UTF-8 bytes: as characters they cut at or after the statement's start.
        return '\n'.join(lines[first - 1:start - 1]) + '\n' + lines[start - 1][:body[0].col_offset]

    def _mentions(self, node, word):
        """Whether `word` is anywhere in the lines of `node`."""
        lines = self.lines
        start = node.decorator_list[0].lineno if getattr(node, 'decorator_list', None) else node.lineno
        end = getattr(node, 'end_lineno', None) or len(lines)
        for line in lines[start - 1:end]:
            if word in line:
                return True
        return False

    def _may_hold(self, text):
        if 'await' in text or 'yield' in text:
            return True
        for name in self.as_completed_names:
            if name in text:
                return True
        return False

    # -- nodes -----------------------------------------------------------------------------------
    def visit_ImportFrom(self, node):
        # `from asyncio import gather as g`: `g(...)` is a candidate too (identity decides).
        if node.module in ('asyncio', 'asyncio.tasks', 'asyncio.timeouts', 'asyncio.taskgroups'):
            for alias in node.names:
                if alias.asname:
                    for names in (self.combinator_names, self.as_completed_names, self.scope_names):
                        if alias.name in names:
                            names.add(alias.asname)
        return node

    def visit_loop(self, node):
        self.loops[-1] += 1
        self.generic_visit(node)
        self.loops[-1] -= 1
        return node

    def visit_Yield(self, node):
        if self.yields:
            self.yields[-1] = True
        self.generic_visit(node)
        return node

    def visit_Lambda(self, node):
        self.yields.append(False)
        self.loops.append(0)
        self.generic_visit(node)
        self.loops.pop()
        self.yields.pop()
        return node

    def visit_Await(self, node):
        value = node.value
        label = self.segment(value)
        candidate = isinstance(value, ast.Call) and _callee_path(value.func) in self.combinator_names
        site = self.add_site('await', label, node)
        if candidate:
            # The combinator's own row: the call, where the user wrote it (see timeline.ts).
            self.add_site('combinator', label, value)
        if self._may_hold(label):
            self.generic_visit(node)
        if self.statement_sites:
            self.statement_sites[-1].append(site)
        if self.loops[-1]:
            self.looped.add(site)
        # In a loop, past the cap an await costs a list lookup and one call in C (which counts it),
        # no call of the recorder (elsewhere the code stays small: instrumenting and compiling stay
        # fast):
        #   (await x) if _awtl_nx(_awtl_d<s>) else _awtl_ae(_awtl_ab(s), await x)
        # (the await is written twice; only one of the two runs).
        if self.loops[-1]:
            self.counted.append(site)
        return _recorded_await(node, site, value.func if candidate else None, self.loops[-1])

    def visit_Call(self, node):
        self.generic_visit(node)
        if _callee_path(node.func) not in self.as_completed_names:
            return node
        site = self.add_site('combinator', self.segment(node), node)
        # `as_completed(fs)` -> `_awtl_ac(site, as_completed)(fs)`: the callee is evaluated first,
        # as before, and the recorder wraps it only when it is asyncio's.
        at = _At(node.func)
        node.func = at.call(AS_COMPLETED, at.const(site), node.func)
        return node

    def visit_ClassDef(self, node):
        self.class_names.append(node.name)
        saved = self.function_depth
        self.function_depth = 0
        saved_flow = self.direct, self.function_awaits
        self.direct, self.function_awaits = False, None
        self.generic_visit(node)
        self.direct, self.function_awaits = saved_flow
        self.function_depth = saved
        self.class_names.pop()
        return node

    def _function(self, node):
        name = node.name
        if self.class_names and self.function_depth == 0:
            name = self.class_names[-1] + '.' + name
        is_method = bool(self.class_names) and self.function_depth == 0
        self.function_depth += 1
        saved_classes = self.class_names
        self.class_names = []
        self.yields.append(False)
        self.loops.append(0)
        saved_flow = self.direct, self.function_awaits
        # A function whose text says no `yield` is no generator: it gets the `try` and `finally`.
        self.direct = not self._mentions(node, 'yield')
        self.function_awaits = []
        if self._may_hold(self._header(node)):
            self.generic_visit(node)
        else:
            # Nothing to rewrite in the decorators, parameters or annotation: the body alone.
            self.generic_visit(node, _BODY)
        direct_awaits = self.function_awaits
        self.direct, self.function_awaits = saved_flow
        self.loops.pop()
        is_generator = self.yields.pop()
        self.class_names = saved_classes
        self.function_depth -= 1
        if is_generator:
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
        if direct_awaits:
            # Its `finally` closes these awaits' spans when it raises (see visit_statement).
            self.sites[site].awaits = tuple(direct_awaits)
            for await_site in direct_awaits:
                self.sites[await_site].scope = site
        # co_firstlineno is the first decorator's line when there are decorators.
        first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
        self.definitions[(first, node.name)] = site
        body = node.body
        head = []
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            head, body = body[:1], body[1:]
        ref = body[0] if body else node
        # if not _awtl_nx(_awtl_d<site>): _awtl_sb(site)      (past the cap: one call in C)
        # At the recursion limit _awtl_sb's own frames raise: the error goes on from here, without
        # them (python3 raises it where the program called). Then the body, in a `try` whose
        # `finally` ends the call span. Both built by _function_wrapper.
        self.counted.append(site)
        head.extend(_function_wrapper(body, site, ref))
        node.body = head
        return node

    def visit_AsyncWith(self, node):
        parts = []
        for item in node.items:
            text = self.segment(item.context_expr)
            if item.optional_vars is not None:
                text += ' as ' + self.segment(item.optional_vars)
            parts.append(text)
        first = node.items[0].context_expr
        label = 'async with ' + ', '.join(parts)
        candidate = isinstance(first, ast.Call) and _callee_path(first.func) in self.scope_names
        site = self.add_site('await', label, node)
        if candidate:
            self.add_site('combinator', label, node)
        self.generic_visit(node)
        at = _At(node)
        if candidate:
            begin = at.call(SCOPE_MAYBE_COMBINATOR, at.const(site), _copy_name(first.func))
        else:
            begin = at.call(SCOPE_BEGIN, at.const(site))
        return [at.stmt(begin), _guarded([node], site, node)]


_POSITIONS = ('lineno', 'col_offset', 'end_lineno', 'end_col_offset')


def _copy_tree(node):
    """A copy of a subtree (copy.deepcopy took as long as the rest of instrumenting)."""
    if isinstance(node, list):
        return [_copy_tree(item) for item in node]
    if not isinstance(node, ast.AST):
        return node
    fields = {}
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, (ast.AST, list)):
            value = _copy_tree(value)
        fields[name] = value
    for name in _POSITIONS:
        value = getattr(node, name, None)
        if value is not None:
            fields[name] = value
    copy = _new(type(node))
    copy.__dict__ = fields
    return copy


def _does_nothing(node):
    return isinstance(node, ast.Pass) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))


def _copy_name(func):
    """A fresh copy of a dotted name (a node may appear only once in a tree)."""
    if isinstance(func, ast.Attribute):
        return ast.copy_location(ast.Attribute(value=_copy_name(func.value), attr=func.attr, ctx=ast.Load()), func)
    return ast.copy_location(ast.Name(id=func.id, ctx=ast.Load()), func)
