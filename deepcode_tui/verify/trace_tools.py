"""Tool errors -> findings: pip resolution/installation errors (located at the
manifest line that declares the package) and argparse usage errors (located
where the offending flag is used and where the closest flag is declared, and,
when a test drove the CLI, at the test's invocation: the argv it passes is
checked against the parser's declarations, since argparse names only the first
problem it meets, e.g. a missing positional before an unknown option)."""

from __future__ import annotations

import ast
import re

from rapidfuzz import fuzz

from .findings import Finding, Kind
from .trace_context import TraceContext, is_test_file
from .trace_pytest import enclosing_test_frame

MANIFESTS = ("requirements.txt", "requirements-dev.txt", "requirements_dev.txt", "pyproject.toml", "setup.cfg",
             "setup.py", "environment.yml")

_PIP_NOT_FOUND = re.compile(r"ERROR: (?:Could not find a version that satisfies the requirement|"
                            r"No matching distribution found for) (?P<req>[^\s(]+)")
_PIP_INVALID = re.compile(r"ERROR: Invalid requirement: '(?P<req>[^']+)'")
_PIP_CONFLICT = re.compile(r"ERROR: Cannot install (?P<what>.+?) because these package versions have conflicting")
_PIP_CAUSE = re.compile(r"^\s+(?:The user requested (?P<user>\S+)|(?P<pkg>[\w.-]+) [\w.+!-]+ depends on (?P<dep>\S+))")


def _dist_name(req: str) -> str:
    return re.split(r"[<>=!~;\[ @]", req.strip(), maxsplit=1)[0]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locate_requirement(ctx: TraceContext, req: str) -> tuple[str | None, int | None]:
    """The manifest file and line declaring distribution ``req`` (None, None if undeclared)."""
    want = _norm(_dist_name(req))
    if not want:
        return None, None
    token = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
    for rel in ctx.repo_files():
        if rel.rsplit("/", 1)[-1] not in MANIFESTS and not re.match(r"requirements.*\.txt$", rel.rsplit("/", 1)[-1]):
            continue
        for i, line in enumerate(ctx.read(rel).splitlines(), 1):
            code = line.split("#", 1)[0]
            if any(_norm(t) == want for t in token.findall(code)):
                return rel, i
    return None, None


def parse_pip(text: str, ctx: TraceContext) -> list[Finding]:
    out: list[Finding] = []
    for m in _PIP_NOT_FOUND.finditer(text):
        req = m.group("req")
        file, line = locate_requirement(ctx, req)
        out.append(Finding(file=file, line=line, kind=Kind.PIP_ERROR, stage="sandbox",
                           message=f"no binary wheel of {req} on the package index satisfies the requirement "
                                   "(a misspelt name, a version that does not exist, or a package published "
                                   "only as source: the sandbox installs binary wheels only, so pick a "
                                   "version or an alternative that ships wheels)"))
    for m in _PIP_INVALID.finditer(text):
        file, line = locate_requirement(ctx, m.group("req"))
        out.append(Finding(file=file, line=line, kind=Kind.PIP_ERROR, stage="sandbox",
                           message=f"invalid requirement line: {m.group('req')}"))
    conflict = _PIP_CONFLICT.search(text)
    if conflict:
        causes = []
        for line in text[conflict.end():].splitlines()[1:30]:
            cm = _PIP_CAUSE.match(line)
            if cm:
                causes.append(cm.group("user") or cm.group("pkg"))
        names = causes or [w.strip() for w in re.split(r",| and ", conflict.group("what")) if w.strip()]
        for name in dict.fromkeys(names):
            file, line = locate_requirement(ctx, name)
            out.append(Finding(file=file, line=line, kind=Kind.PIP_ERROR, stage="sandbox",
                               message=f"dependency conflict involving {name}: {conflict.group(0)[7:]}"))
    return out


# -- argparse -----------------------------------------------------------------------------------
_ARGPARSE_ERR = re.compile(r"^(?P<prog>[\w./-]+): error: (?P<msg>.+)$", re.M)
_OPT = re.compile(r"""['"](?P<opt>-{1,2}[A-Za-z0-9][\w-]*)['"]""")
_POS = re.compile(r"""add_argument\(\s*['"](?P<name>[A-Za-z_][\w-]*)['"]""")


def _declarations(ctx: TraceContext) -> list[tuple[str, int, list[str], str]]:
    """(file, line, option strings, positional name) of every ``add_argument`` call;
    the line is that of the option string itself (calls often span lines)."""
    out: list[tuple[str, int, list[str], str]] = []
    for rel in ctx.repo_files():
        if not rel.endswith(".py"):
            continue
        text = ctx.read(rel)
        if "add_argument" not in text:
            continue
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            for i, line in enumerate(text.splitlines(), 1):
                if "add_argument(" in line:
                    pos = _POS.search(line)
                    out.append((rel, i, _OPT.findall(line), pos.group("name") if pos else ""))
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "add_argument"):
                continue
            consts = [a for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            for c in consts:
                if c.value.startswith("-"):
                    out.append((rel, c.lineno, [c.value], ""))
                else:
                    out.append((rel, c.lineno, [], c.value))
    return out


def _bad_flags(msg: str) -> tuple[list[str], list[str]]:
    """(offending option strings, missing positional names) named by an argparse error."""
    if msg.startswith("unrecognized arguments:"):
        return [t for t in msg.split(":", 1)[1].split() if t.startswith("-")], []
    m = re.match(r"argument (?P<arg>\S+?):", msg)
    if m:
        return [a for a in m.group("arg").split("/") if a.startswith("-")], \
            [a for a in m.group("arg").split("/") if not a.startswith("-")]
    m = re.match(r"ambiguous option: (?P<opt>\S+?)(=\S*)? could match", msg)
    if m:
        return [m.group("opt")], []
    m = re.match(r"the following arguments are required: (?P<args>.+)", msg)
    if m:
        args = [a.strip() for a in m.group("args").split(",")]
        return [a for a in args if a.startswith("-")], [a for a in args if not a.startswith("-")]
    return [], []


def _enclosing_function(tree: ast.AST, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    best = None
    for node in ast.walk(tree):
        if (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.lineno <= line <= (node.end_lineno or 0)
                and (best is None or node.lineno >= best.lineno)):
            best = node
    return best


def _argv_literal(call: ast.Call) -> ast.List | ast.Tuple | None:
    """The argument of ``call`` that looks like an argv: a list or tuple literal
    holding at least one string constant (an empty one is taken separately)."""
    for arg in [*call.args, *(k.value for k in call.keywords)]:
        if isinstance(arg, ast.List | ast.Tuple) and any(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in arg.elts):
            return arg
    return None


def cli_invocations(ctx: TraceContext, rel: str, line: int) -> list[tuple[ast.Call, ast.List | ast.Tuple]]:
    """Calls with an argv-like literal in the function enclosing ``rel:line`` (a
    failing test), the one that ran last before that line first."""
    try:
        tree = ast.parse(ctx.read(rel))
    except (SyntaxError, ValueError):
        return []
    func = _enclosing_function(tree, line)
    if func is None:
        return []
    calls = []
    for node in ast.walk(func):
        if isinstance(node, ast.Call):
            argv = _argv_literal(node)
            if argv is not None:
                calls.append((node, argv))
            else:  # ``main([])``: an empty argv
                calls += [(node, a) for a in node.args if isinstance(a, ast.List | ast.Tuple) and not a.elts]
    calls.sort(key=lambda c: c[0].lineno)
    before = [c for c in calls if c[0].lineno <= line]
    return [*reversed(before), *(c for c in calls if c[0].lineno > line)]


def _is_declared(token: str, options: set[str]) -> bool:
    """Whether argparse would accept option ``token`` given the declared option strings
    (exact, ``--opt=value``, an unambiguous long prefix, ``-xVALUE`` / ``-xyz`` short forms)."""
    bare = token.split("=", 1)[0]
    if bare in options or bare in ("-h", "--help"):
        return True
    if bare.startswith("--"):
        return len([o for o in options if o.startswith(bare)]) == 1
    return len(bare) > 2 and bare[:2] in options


def _option_like(value: object) -> bool:
    return (isinstance(value, str) and value.startswith("-") and value != "--" and len(value) > 1
            and not re.match(r"-\.?\d", value))


def _invocation_findings(ctx: TraceContext, where: tuple[str, int], msg: str, prog: str,
                         decls: list[tuple[str, int, list[str], str]]) -> list[Finding]:
    """The test's CLI invocation: each option it passes that no ``add_argument``
    declares, else the invocation itself."""
    invocations = cli_invocations(ctx, *where)
    if not invocations:
        return []
    _call, argv = invocations[0]
    options = {o for _f, _ln, opts, _p in decls for o in opts}
    out = []
    if options:
        for e in argv.elts:
            if isinstance(e, ast.Constant) and _option_like(e.value) and not _is_declared(e.value, options):
                out.append(Finding(file=where[0], line=e.lineno, kind=Kind.CLI_USAGE, stage="sandbox",
                                   message=f"{prog}: {msg}; the test passes {e.value}, which no add_argument "
                                           "declares (argparse reports only the first problem it meets)"))
    if not out:
        shown = ast.get_source_segment(ctx.read(where[0]), argv) or "an argv"
        out.append(Finding(file=where[0], line=argv.lineno, kind=Kind.CLI_USAGE, stage="sandbox",
                           message=f"{prog}: {msg}; the test invokes the CLI here with {shown[:120]}"))
    return out


def _declaration_is_the_odd_one(ctx: TraceContext, used: str, declared: str,
                                decls: list[tuple[str, int, list[str], str]]) -> bool:
    """Whether the declaration, not the use, is the misspelling: the spelling passed
    on the command line is the one the code itself uses elsewhere (``args.outfile``,
    ``dest="outfile"``, help text), while the declared one appears nowhere but in its
    own ``add_argument``. Then the tests' uses of the flag are right, and are not
    reported as locations."""

    def in_code(flag: str) -> bool:
        name = flag.lstrip("-")
        word = re.compile(rf"(?<![\w-])(?:{re.escape(name)}|{re.escape(name.replace('-', '_'))})(?![\w-])")
        return any(not is_test_file(rel) and "add_argument(" not in line and (rel, i) not in declared_at
                   for rel, i, line in ctx.grep(word, {".py"}))

    declared_at = {(f, ln) for f, ln, _o, _p in decls}

    return in_code(used) and not in_code(declared)


def parse_argparse(text: str, ctx: TraceContext) -> list[Finding]:
    if "usage:" not in text:
        return []
    out: list[Finding] = []
    decls: list[tuple[str, int, list[str], str]] | None = None
    for m in _ARGPARSE_ERR.finditer(text):
        msg, prog = m.group("msg").strip(), m.group("prog")
        flags, positionals = _bad_flags(msg)
        located = False
        misdeclared = False
        if decls is None:
            decls = _declarations(ctx)
        for flag in flags:
            bare = flag.split("=", 1)[0]
            exact = [(f, ln) for f, ln, opts, _ in decls if bare in opts]
            if exact:  # declared, so the value or its use is wrong: point at the declaration
                for f, ln in exact[:2]:
                    out.append(Finding(file=f, line=ln, kind=Kind.CLI_USAGE, stage="sandbox",
                                       message=f"{prog}: {msg} (option {bare} is declared here)"))
                    located = True
            else:
                scored = [(fuzz.ratio(bare, o), f, ln, o) for f, ln, opts, _ in decls for o in opts if o != bare]
                best = max(scored, default=None)
                if best and best[0] >= 70:
                    out.append(Finding(file=best[1], line=best[2], kind=Kind.CLI_USAGE, stage="sandbox",
                                       message=f"{prog}: {msg}; the parser declares {best[3]} here, not {bare}"))
                    located = True
                    misdeclared = misdeclared or _declaration_is_the_odd_one(ctx, bare, best[3], decls)
            use = re.compile(rf"(?<![\w-]){re.escape(bare)}(?![\w-])")
            declared_at = {(f, ln) for f, ln, _o, _p in decls}
            for rel, i, line in ctx.grep(use):
                if "add_argument(" in line or (rel, i) in declared_at:
                    continue
                if misdeclared and is_test_file(rel):
                    continue
                out.append(Finding(file=rel, line=i, kind=Kind.CLI_USAGE, stage="sandbox",
                                   message=f"{prog}: {msg}; {bare} is passed here"))
                located = True
            if bare in ctx.command or any(a.startswith(bare + "=") for a in ctx.command):
                out.append(Finding(kind=Kind.CLI_USAGE, stage="sandbox",
                                   message=f"the verification command passes {bare}, which {prog} rejects: {msg}"))
                located = True
        for name in positionals:
            for f, ln, _opts, pos in decls:
                if pos == name:
                    out.append(Finding(file=f, line=ln, kind=Kind.CLI_USAGE, stage="sandbox",
                                       message=f"{prog}: {msg} (argument {name} is declared here)"))
                    located = True
        where = enclosing_test_frame(text, m.start(), ctx)
        if where is not None and not misdeclared:
            found = _invocation_findings(ctx, where, msg, prog, decls)
            out += [f for f in found if (f.file, f.line) not in {(o.file, o.line) for o in out}]
            located = located or bool(found)
        if not located:
            out.append(Finding(kind=Kind.CLI_USAGE, stage="sandbox", message=f"{prog}: {msg}"))
    return out
