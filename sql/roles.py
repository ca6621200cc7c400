"""Roles and privileges, as PostgreSQL 15's: CREATE/ALTER/DROP ROLE (and USER), GRANT/REVOKE.

Everything lives in the storage catalog's meta table (JSON values), so it survives restarts:

- ``role:<name>``: a role's attributes; its password only as a SCRAM-SHA-256 verifier (what pgwire's
  SCRAM exchange needs; pgwire/auth.py's PasswordStore reads it through :func:`login_secret`).
- ``role_member:<role>:<member>``: a membership (GRANT role TO member).
- ``acl:table:<table id>``, ``acl:view:<db>:<schema>:<name>``, ``acl:schema:<db>:<name>``,
  ``acl:database:<db id>``: an object's owner (None: the bootstrap superuser) and its ACL
  (None: the default, as PostgreSQL's NULL relacl; else ``[[grantee, privileges, grantor], ...]``,
  grantee "" = PUBLIC, privileges in aclitem letters).

``postgres`` (the bootstrap superuser), users of pg_password_file and names the catalog does not know
(loopback trust logs any name in, as before roles existed) are superusers; a role created here is
what its attributes say. Enforcement (sql/privileges.py) runs only for sessions that are not.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from sql import errors as E

if TYPE_CHECKING:
    from sql.engine import SqlSession

BOOTSTRAP = "postgres"
ROLE_PREFIX = "role:"
MEMBER_PREFIX = "role_member:"
ACL_PREFIX = "acl:"
ROLE_OID_KEY = "role_oid"  # the last role OID handed out
TABLE_PRIVS = "arwdDxt"  # INSERT SELECT UPDATE DELETE TRUNCATE REFERENCES TRIGGER
PRIV_LETTER = {
    "SELECT": "r",
    "INSERT": "a",
    "UPDATE": "w",
    "DELETE": "d",
    "TRUNCATE": "D",
    "REFERENCES": "x",
    "TRIGGER": "t",
    "USAGE": "U",
    "CREATE": "C",
    "CONNECT": "c",
    "TEMPORARY": "T",
    "TEMP": "T",
}
LETTER_PRIV = {v: k for k, v in PRIV_LETTER.items() if k != "TEMP"}
ALL_OF = {"table": TABLE_PRIVS, "view": TABLE_PRIVS, "schema": "UC", "database": "CTc"}
# what an object's PUBLIC has when its ACL is the default (PostgreSQL 15)
DEFAULT_PUBLIC = {"table": "", "view": "", "schema": "U", "database": "Tc"}
KIND_WORD = {"table": "table", "view": "view", "schema": "schema", "database": "database"}


@dataclass
class Role:
    name: str
    oid: int
    superuser: bool = False
    login: bool = False
    createdb: bool = False
    createrole: bool = False
    inherit: bool = True
    replication: bool = False
    bypassrls: bool = False
    connlimit: int = -1
    password: str | None = None  # a SCRAM-SHA-256 verifier
    valid_until: str | None = None


@dataclass
class Acl:
    owner: str | None = None  # None: the bootstrap superuser
    items: list[list[str]] | None = None  # None: the default

    def owner_name(self) -> str:
        return self.owner or BOOTSTRAP


# -- reading --------------------------------------------------------------------------------------


def roles(catalog) -> dict[str, Role]:
    """The roles the catalog holds (not the bootstrap superuser), by name."""
    out = {}
    for key, value in catalog.meta_items(ROLE_PREFIX):
        d = json.loads(value)
        out[key[len(ROLE_PREFIX) :]] = Role(**d)
    return out


def role(catalog, name: str) -> Role | None:
    value = catalog.get_meta(ROLE_PREFIX + name)
    return None if value is None else Role(**json.loads(value))


def memberships(catalog) -> list[tuple[str, str, bool, str]]:
    """(role, member, admin option, grantor)."""
    out = []
    for key, value in catalog.meta_items(MEMBER_PREFIX):
        rolename, member = json.loads(key[len(MEMBER_PREFIX) :])
        d = json.loads(value)
        out.append((rolename, member, bool(d.get("admin")), d.get("grantor") or BOOTSTRAP))
    return out


def acl(catalog, key: str) -> Acl:
    value = catalog.get_meta(key)
    if value is None:
        return Acl()
    d = json.loads(value)
    return Acl(d.get("owner"), d.get("items"))


def acls(catalog) -> dict[str, Acl]:
    out = {}
    for k, v in catalog.meta_items(ACL_PREFIX):
        d = json.loads(v)
        out[k] = Acl(d.get("owner"), d.get("items"))
    return out


def save_acl(catalog, key: str, a: Acl) -> None:
    if a.owner is None and a.items is None:
        catalog.set_meta(key, None)
    else:
        catalog.set_meta(key, json.dumps({"owner": a.owner, "items": a.items}))


def table_key(table_id: int) -> str:
    return f"acl:table:{table_id}"


def view_key(database: str, schema: str, name: str) -> str:
    return "acl:view:" + json.dumps([database, schema, name])


def schema_key(database: str, name: str) -> str:
    return "acl:schema:" + json.dumps([database, name])


def database_key(db_id: int) -> str:
    return f"acl:database:{db_id}"


def is_superuser(catalog, name: str) -> bool:
    """Whether ``name`` bypasses privilege checks: the bootstrap superuser, a password-file user or a
    name the catalog does not hold (see the module docstring), or a SUPERUSER role."""
    if name == BOOTSTRAP:
        return True
    r = role(catalog, name)
    return r is None or r.superuser


def login_secret(catalog, name: str) -> str | None:
    """The SCRAM verifier a LOGIN role logs in with (None: it cannot log in with a password)."""
    r = role(catalog, name)
    if r is None or not r.login:
        return None
    return r.password


def effective_roles(catalog, name: str) -> set[str]:
    """``name`` and the roles whose privileges it has (memberships, through INHERIT roles)."""
    return effective_roles_from(name, roles(catalog), memberships(catalog))


def effective_roles_from(
    name: str, all_roles: dict[str, Role], members: list[tuple[str, str, bool, str]]
) -> set[str]:
    out = {name}
    todo = [name]
    while todo:
        r = todo.pop()
        info = all_roles.get(r)
        if info is not None and not info.inherit:
            continue
        for parent, member, _adm, _g in members:
            if member == r and parent not in out:
                out.add(parent)
                todo.append(parent)
    return out


def privileges_of(a: Acl, kind: str, who: set[str]) -> str:
    """The privilege letters the roles ``who`` hold on an object (owner: all of them)."""
    if a.owner_name() in who:
        return ALL_OF[kind]
    items = a.items if a.items is not None else [["", DEFAULT_PUBLIC[kind], a.owner_name()]]
    return "".join(p for g, p, _ in items if g == "" or g in who)


def aclitems(a: Acl, kind: str) -> list[str] | None:
    """The ACL in PostgreSQL's aclitem text (``grafanareader=r/postgres``); None: the default."""
    if a.items is None:
        return None
    return [f"{quote_role(g) if g else ''}={_order(p, kind)}/{quote_role(gr)}" for g, p, gr in a.items]


def _order(privs: str, kind: str) -> str:
    return "".join(c for c in ALL_OF[kind] + "UCTc" if c in privs and c in ALL_OF[kind])


def quote_role(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


# -- statements -------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:(?P<q>"(?:[^"]|"")*")|(?P<s>[Ee]?'(?:[^']|'')*')|(?P<w>[A-Za-z_][A-Za-z0-9_$]*)"""
    r"""|(?P<n>-?\d+)|(?P<p>[(),.;=*]))"""
)


class _Tokens:
    def __init__(self, sql: str) -> None:
        self.toks: list[tuple[str, str]] = []  # (kind, value): w = word (upper), i = identifier, s, n, p
        pos = 0
        sql = sql.strip().rstrip(";").strip()
        while pos < len(sql):
            m = _TOKEN.match(sql, pos)
            if m is None or m.end() == pos:
                if sql[pos:].strip() == "":
                    break
                raise E.SyntaxError_(f'syntax error at or near "{sql[pos:].split()[0]}"')
            pos = m.end()
            if m.group("q"):
                self.toks.append(("i", m.group("q")[1:-1].replace('""', '"')))
            elif m.group("s"):
                s = m.group("s")
                self.toks.append(("s", s[s.index("'") + 1 : -1].replace("''", "'")))
            elif m.group("w"):
                self.toks.append(("w", m.group("w")))
            elif m.group("n"):
                self.toks.append(("n", m.group("n")))
            else:
                self.toks.append(("p", m.group("p")))
        self.i = 0

    def peek(self, n: int = 0) -> str:
        if self.i + n >= len(self.toks):
            return ""
        k, v = self.toks[self.i + n]
        return v.upper() if k == "w" else ("\0" + v if k != "p" else v)

    def at_end(self) -> bool:
        return self.i >= len(self.toks)

    def take(self, *words: str) -> bool:
        if self.peek() in words:
            self.i += 1
            return True
        return False

    def expect(self, *words: str) -> str:
        w = self.peek()
        if w not in words:
            self.error()
        self.i += 1
        return w

    def error(self):
        raise E.SyntaxError_(
            "syntax error at end of input"
            if self.at_end()
            else f'syntax error at or near "{self.toks[self.i][1]}"'
        )

    def name(self) -> str:
        """An identifier: unquoted ones fold to lower case."""
        if self.at_end():
            self.error()
        k, v = self.toks[self.i]
        if k not in ("w", "i"):
            self.error()
        self.i += 1
        return v.lower() if k == "w" else v

    def string(self) -> str:
        if self.at_end() or self.toks[self.i][0] != "s":
            self.error()
        self.i += 1
        return self.toks[self.i - 1][1]

    def number(self) -> int:
        if self.at_end() or self.toks[self.i][0] != "n":
            self.error()
        self.i += 1
        return int(self.toks[self.i - 1][1])

    def done(self) -> None:
        if not self.at_end():
            self.error()


_OWNER_TO = re.compile(r"(?is)^\s*ALTER\s+(TABLE|VIEW|SCHEMA)\s+.*\bOWNER\s+TO\s+\S+\s*;?\s*$")


def is_role_statement(sql: str) -> bool:
    """CREATE/ALTER/DROP ROLE (USER, GROUP), and ALTER TABLE/VIEW/SCHEMA ... OWNER TO (GRANT and
    REVOKE are told by their first word)."""
    words = sql.split(None, 2)[:2]
    if len(words) < 2:
        return False
    first, second = words[0].upper(), words[1].upper()
    if first in ("CREATE", "ALTER", "DROP") and second in ("ROLE", "USER", "GROUP"):
        return True
    return first == "ALTER" and _OWNER_TO.match(sql) is not None


def tag_of(sql: str) -> str:
    words = sql.split(None, 2)
    first = words[0].upper()
    if first in ("GRANT", "REVOKE"):
        return first
    if len(words) > 1 and words[1].upper() in ("TABLE", "VIEW", "SCHEMA"):
        return f"ALTER {words[1].upper()}"
    return f"{first} ROLE"


class ConnectDenied(E.InsufficientPrivilege):
    """At a session's start: FATAL, as PostgreSQL's."""

    severity = "FATAL"


def check_login(catalog, user: str, database: str) -> None:
    """A session for ``user`` may start: 28000 for a NOLOGIN role, 42501 without CONNECT on the
    database, as PostgreSQL. Nothing to read for ``postgres``."""
    if user == BOOTSTRAP:
        return
    r = role(catalog, user)
    if r is None:
        return  # (a password-file user, or an in-process session's name: superusers)
    if not r.login:
        raise E.InvalidAuthorizationSpecification(f'role "{user}" is not permitted to log in')
    if r.superuser:
        return
    a = acl(catalog, database_key(catalog.database(database).id))
    if a.items is not None and "c" not in privileges_of(a, "database", effective_roles(catalog, user)):
        raise ConnectDenied(
            f'permission denied for database "{database}"', detail="User does not have CONNECT privilege."
        )


def run(session: SqlSession, sql: str):
    word = sql.split(None, 1)[0].upper()
    if word == "GRANT" or word == "REVOKE":
        return run_grant(session, sql)
    if is_role_statement(sql) and sql.split()[1].upper() in ("TABLE", "VIEW", "SCHEMA"):
        return run_owner(session, sql)
    return run_role_statement(session, sql)


def _check_name(name: str) -> None:
    if name == "public" or name == "none":
        raise E.ReservedName(f'role name "{name}" is reserved')
    if name.startswith("pg_"):
        raise E.ReservedName(
            f'role name "{name}" is reserved', detail='Role names starting with "pg_" are reserved.'
        )


def _role_exists(catalog, name: str) -> bool:
    return name == BOOTSTRAP or name == "pg_database_owner" or role(catalog, name) is not None


def _require_createrole(session: SqlSession, what: str) -> None:
    if not session.is_superuser():
        r = role(session.storage.catalog, session.user)
        if r is None or not r.createrole:
            raise E.InsufficientPrivilege(f"permission denied to {what}")


def _options(t: _Tokens, r: Role, alter: bool) -> tuple[list[str], list[str]]:
    """Role options into ``r``; returns the roles of IN ROLE / ROLE / ADMIN (not kept: memberships are
    made by GRANT) as (in_roles, members)."""
    in_roles: list[str] = []
    members: list[str] = []
    t.take("WITH")
    flags = {
        "SUPERUSER": ("superuser", True),
        "NOSUPERUSER": ("superuser", False),
        "LOGIN": ("login", True),
        "NOLOGIN": ("login", False),
        "CREATEDB": ("createdb", True),
        "NOCREATEDB": ("createdb", False),
        "CREATEROLE": ("createrole", True),
        "NOCREATEROLE": ("createrole", False),
        "INHERIT": ("inherit", True),
        "NOINHERIT": ("inherit", False),
        "REPLICATION": ("replication", True),
        "NOREPLICATION": ("replication", False),
        "BYPASSRLS": ("bypassrls", True),
        "NOBYPASSRLS": ("bypassrls", False),
    }
    seen: set[str] = set()
    while not t.at_end():
        w = t.peek()
        if w in flags:
            attr, value = flags[w]
            if attr in seen:
                raise E.SyntaxError_("conflicting or redundant options")
            seen.add(attr)
            setattr(r, attr, value)
            t.i += 1
        elif w in ("PASSWORD", "ENCRYPTED"):
            if "password" in seen:
                raise E.SyntaxError_("conflicting or redundant options")
            seen.add("password")
            t.i += 1
            if w == "ENCRYPTED":
                t.expect("PASSWORD")
            if t.take("NULL"):
                r.password = None
            else:
                r.password = _verifier(t.string(), r.name)
        elif w == "CONNECTION":
            t.i += 1
            t.expect("LIMIT")
            r.connlimit = t.number()
        elif w == "VALID":
            t.i += 1
            t.expect("UNTIL")
            r.valid_until = t.string()
        elif w in ("IN", "ROLE", "ADMIN", "USER", "SYSID") and not alter:
            t.i += 1
            if w == "IN":
                t.expect("ROLE", "GROUP")
            if w == "SYSID":
                t.number()
                continue
            names = [t.name()]
            while t.take(","):
                names.append(t.name())
            (in_roles if w == "IN" else members).extend(names)
        else:
            t.error()
    return in_roles, members


def _verifier(password: str, user: str) -> str | None:
    from pgwire.auth import SCRAM_MECHANISM, ScramVerifier

    if password == "":
        return None  # PostgreSQL: "empty string is not a valid password, clearing password" (a NOTICE)
    if password.startswith(SCRAM_MECHANISM + "$"):
        try:
            ScramVerifier.parse(password)
            return password
        except ValueError:
            pass
    return str(ScramVerifier.from_password(password))


def run_role_statement(session: SqlSession, sql: str):
    from sql.engine import Result

    catalog = session.storage.catalog
    t = _Tokens(sql)
    verb = t.expect("CREATE", "ALTER", "DROP")
    noun = t.expect("ROLE", "USER", "GROUP")
    if verb == "CREATE":
        name = t.name()
        _check_name(name)
        _require_createrole(session, "create role")
        r = Role(name=name, oid=_new_oid(catalog), login=noun == "USER")
        in_roles, members = _options(t, r, alter=False)
        if r.superuser and not session.is_superuser():
            raise E.InsufficientPrivilege("must be superuser to create superusers")
        if _role_exists(catalog, name):
            raise E.DuplicateObject(f'role "{name}" already exists')
        for other in in_roles + members:
            if not _role_exists(catalog, other):
                raise E.UndefinedObject(f'role "{other}" does not exist')
        _save_role(catalog, r)
        for parent in in_roles:
            _add_member(catalog, parent, name, session.user)
        for member in members:
            _add_member(catalog, name, member, session.user)
        session.sql_engine.roles_changed()
        return Result(None, tag="CREATE ROLE")
    if verb == "ALTER":
        name = _role_spec(session, t.name())
        if t.take("RENAME"):
            t.expect("TO")
            new = t.name()
            t.done()
            return _rename(session, name, new)
        if t.peek() in ("SET", "RESET") or (t.peek() == "IN"):
            raise E.FeatureNotSupported("ALTER ROLE ... SET is not supported")
        if name == BOOTSTRAP:
            raise E.FeatureNotSupported(
                "ALTER ROLE postgres is not supported",
                hint="postgres is always a superuser; its password is pg_password_file's (docs/operations.md).",
            )
        if name == "pg_database_owner":
            raise E.InsufficientPrivilege(f'permission denied to alter role "{name}"')
        r = role(catalog, name)
        if r is None:
            raise E.UndefinedObject(f'role "{name}" does not exist')
        before = dataclasses.replace(r)
        _options(t, r, alter=True)
        if not session.is_superuser():
            if before.superuser or r.superuser:
                raise E.InsufficientPrivilege(
                    "must be superuser to alter superuser roles or change superuser attribute"
                )
            me = role(catalog, session.user)
            if me is None or not me.createrole:
                # without CREATEROLE a role may change its own password only
                unchanged = dataclasses.replace(r, password=before.password) == before
                if name != session.user or not unchanged:
                    raise E.InsufficientPrivilege("permission denied to alter role")
        _save_role(catalog, r)
        session.sql_engine.roles_changed()
        return Result(None, tag="ALTER ROLE")
    # DROP
    if_exists = False
    if t.take("IF"):
        t.expect("EXISTS")
        if_exists = True
    names = [t.name()]
    while t.take(","):
        names.append(t.name())
    t.done()
    _require_createrole(session, "drop role")
    for name in names:
        if name == session.user:
            raise E.ObjectInUse("current user cannot be dropped")
        if name in (BOOTSTRAP, "pg_database_owner"):
            raise E.DependentObjectsStillExist(
                f"cannot drop role {name} because it is required by the database system"
            )
        dropped = role(catalog, name)
        if dropped is not None and dropped.superuser and not session.is_superuser():
            raise E.InsufficientPrivilege("must be superuser to drop superusers")
        if dropped is None:
            if if_exists:
                session.notice(E.Notice_(f'role "{name}" does not exist, skipping'))
                continue
            raise E.UndefinedObject(f'role "{name}" does not exist')
        deps = dependents(session, name)
        if deps:
            raise E.DependentObjectsStillExist(
                f'role "{name}" cannot be dropped because some objects depend on it', detail="\n".join(deps)
            )
        catalog.set_meta(ROLE_PREFIX + name, None)
        for parent, member, _a, _g in memberships(catalog):
            if name in (parent, member):
                catalog.set_meta(MEMBER_PREFIX + json.dumps([parent, member]), None)
    session.sql_engine.roles_changed()
    return Result(None, tag="DROP ROLE")


def _role_spec(session: SqlSession, name: str) -> str:
    if name in ("current_user", "session_user", "current_role"):
        return session.user
    return name


def _rename(session: SqlSession, old: str, new: str):
    from sql.engine import Result

    catalog = session.storage.catalog
    if old == session.user:
        raise E.FeatureNotSupported("session user cannot be renamed")
    r = role(catalog, old)
    if r is None:
        if old == BOOTSTRAP:
            raise E.FeatureNotSupported("session user cannot be renamed")
        raise E.UndefinedObject(f'role "{old}" does not exist')
    _require_createrole(session, "rename role")
    if r.superuser and not session.is_superuser():
        raise E.InsufficientPrivilege("must be superuser to rename superusers")
    _check_name(new)
    if _role_exists(catalog, new):
        raise E.DuplicateObject(f'role "{new}" already exists')
    r.name = new
    catalog.set_meta(ROLE_PREFIX + old, None)
    _save_role(catalog, r)
    for parent, member, adm, grantor in memberships(catalog):
        if old in (parent, member, grantor):
            catalog.set_meta(MEMBER_PREFIX + json.dumps([parent, member]), None)
            p, m = (new if parent == old else parent), (new if member == old else member)
            catalog.set_meta(
                MEMBER_PREFIX + json.dumps([p, m]),
                json.dumps({"admin": adm, "grantor": new if grantor == old else grantor}),
            )
    for key, a in acls(catalog).items():
        changed = False
        if a.owner == old:
            a.owner, changed = new, True
        if a.items is not None:
            for item in a.items:
                for i in (0, 2):
                    if item[i] == old:
                        item[i], changed = new, True
        if changed:
            save_acl(catalog, key, a)
    session.sql_engine.roles_changed()
    return Result(None, tag="ALTER ROLE")


def dependents(session: SqlSession, name: str) -> list[str]:
    """What keeps role ``name`` from being dropped (PostgreSQL's DETAIL lines)."""
    out = []
    for key, a in acls(session.storage.catalog).items():
        what = describe_key(session, key)
        if what is None:
            continue
        if a.owner == name:
            out.append(f"owner of {what}")
        elif a.items is not None and any(name in (g, gr) for g, _p, gr in a.items):
            out.append(f"privileges for {what}")
    for parent, member, _a, grantor in memberships(session.storage.catalog):
        if grantor == name and name not in (parent, member):
            out.append(f"privileges for membership of role {member} in role {parent}")
    return out


def describe_key(session: SqlSession, key: str) -> str | None:
    """ "table t" for an ACL key (None: the object is gone)."""
    kind, _, rest = key[len(ACL_PREFIX) :].partition(":")
    catalog = session.storage.catalog
    if kind == "table":
        for name, schema in _tables_by_id(session).get(int(rest), ()):
            return f"table {name}" if schema == "public" else f"table {schema}.{name}"
        return None
    if kind == "view":
        _db, schema, name = json.loads(rest)
        return f"view {name}" if schema == "public" else f"view {schema}.{name}"
    if kind == "schema":
        return f"schema {json.loads(rest)[1]}"
    if kind == "database":
        for d in catalog.databases():
            if str(d.id) == rest:
                return f"database {d.name}"
    return None


def _tables_by_id(session: SqlSession) -> dict[int, list[tuple[str, str]]]:
    out: dict[int, list[tuple[str, str]]] = {}
    storage = session.storage
    for db in storage.catalog.databases():
        for meta in storage.catalog.tables(db.id):
            out.setdefault(meta.id, []).append(
                (meta.name, "public" if meta.rp in (None, "", "autogen") else meta.rp)
            )
    return out


def _new_oid(catalog) -> int:
    """A role's OID, counted in the catalog in one transaction (two sessions creating roles at once get
    different ones)."""

    def bump(state):
        n = (state or {}).get("last", 0) + 1
        return {"last": n}, n

    return 16384 + 1_000_000 + catalog.sequence_update(ROLE_OID_KEY, bump)


def _save_role(catalog, r: Role) -> None:
    catalog.set_meta(ROLE_PREFIX + r.name, json.dumps(asdict(r)))


def _add_member(catalog, parent: str, member: str, grantor: str, admin: bool = False) -> None:
    catalog.set_meta(
        MEMBER_PREFIX + json.dumps([parent, member]), json.dumps({"admin": admin, "grantor": grantor})
    )


# -- GRANT / REVOKE / OWNER TO -------------------------------------------------------------------------

_PRIV_WORDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "USAGE", "CREATE",
               "CONNECT", "TEMPORARY", "TEMP", "EXECUTE")  # fmt: skip


def _qualified_name(t: _Tokens) -> tuple[str | None, str]:
    first = t.name()
    if t.take("."):
        return first, t.name()
    return None, first


def _objects(session: SqlSession, t: _Tokens) -> tuple[str, list[tuple[str, str, str]]]:
    """The objects of GRANT/REVOKE ... ON: (kind, [(ACL key, kind, label)])."""
    from sqlglot import exp

    from sql.privileges import target

    catalog = session.storage.catalog
    if t.take("SCHEMA"):
        out = []
        for name in _name_list(t):
            _require_schema(session, name)
            out.append((schema_key(session.database, name), "schema", name))
        return "schema", out
    if t.take("DATABASE"):
        out = []
        for name in _name_list(t):
            try:
                db = catalog.database(name)
            except Exception:  # noqa: BLE001 - the catalog's DatabaseNotFound
                raise E.InvalidCatalogName(f'database "{name}" does not exist') from None
            out.append((database_key(db.id), "database", name))
        return "database", out
    if t.take("ALL"):
        t.expect("TABLES")
        t.expect("IN")
        t.expect("SCHEMA")
        out = []
        for name in _name_list(t):
            _require_schema(session, name)
            for key, kind, label in _tables_in_schema(session, name):
                out.append((key, kind, label))
        return "table", out
    if t.peek() in ("FUNCTION", "SEQUENCE", "SEQUENCES", "FUNCTIONS", "TYPE", "DOMAIN", "LANGUAGE",
                    "FOREIGN", "LARGE", "TABLESPACE", "PROCEDURE", "ROUTINE", "PARAMETER"):  # fmt: skip
        raise E.FeatureNotSupported(f"GRANT ... ON {t.peek()} is not supported")
    t.take("TABLE")
    out = []
    while True:
        schema, name = _qualified_name(t)
        ref = exp.Table(this=exp.to_identifier(name), db=exp.to_identifier(schema) if schema else None)
        found = target(session, ref)
        if found is None:
            raise E.UndefinedTable(f'relation "{schema + "." if schema else ""}{name}" does not exist')
        out.append(found)
        if not t.take(","):
            break
    return "table", out


def _name_list(t: _Tokens) -> list[str]:
    names = [t.name()]
    while t.take(","):
        names.append(t.name())
    return names


def _schemas(session: SqlSession) -> list[str]:
    catalog = session.storage.catalog
    db = catalog.database(session.database)
    return ["public"] + [
        rp.name for rp in catalog.retention_policies(session.database) if rp.name != db.default_rp
    ]


def _require_schema(session: SqlSession, name: str) -> None:
    if name not in _schemas(session):
        raise E.InvalidSchemaName(f'schema "{name}" does not exist')


def _tables_in_schema(session: SqlSession, schema: str) -> list[tuple[str, str, str]]:
    catalog = session.storage.catalog
    db = catalog.database(session.database)
    rp = db.default_rp if schema == "public" else schema
    out = [(table_key(m.id), "table", m.name) for m in catalog.tables(db.id, rp)]
    from sql.ddl import view_key as stored_view_key

    prefix = stored_view_key(session.database, schema, "")
    for key, _v in catalog.meta_items(prefix):
        name = key[len(prefix) :]
        out.append((view_key(session.database, schema, name), "view", name))
    return out


def _grantees(session: SqlSession, t: _Tokens) -> list[str]:
    out = []
    while True:
        if t.take("GROUP"):
            pass
        if t.peek() == "PUBLIC":
            t.i += 1
            out.append("")
        else:
            name = _role_spec(session, t.name())
            if not _role_exists(session.storage.catalog, name):
                raise E.UndefinedObject(f'role "{name}" does not exist')
            out.append(name)
        if not t.take(","):
            return out


def _privilege_list(t: _Tokens) -> str | list[str]:
    """ "ALL" or the privilege words."""
    if t.take("ALL"):
        t.take("PRIVILEGES")
        if t.peek() == "(":
            raise E.FeatureNotSupported("column privileges are not supported")
        return "ALL"
    out = []
    while True:
        w = t.peek()
        if w not in _PRIV_WORDS:
            t.error()
        t.i += 1
        if t.peek() == "(":
            raise E.FeatureNotSupported("column privileges are not supported")
        out.append(w)
        if not t.take(","):
            return out


def _letters(privs: str | list[str], kind: str) -> str:
    if privs == "ALL":
        return ALL_OF[kind]
    out = ""
    for w in privs:
        letter = PRIV_LETTER.get(w)
        if letter is None or letter not in ALL_OF[kind]:
            raise E.InvalidGrantOperation(f"invalid privilege type {w} for {KIND_WORD[kind]}")
        out += letter
    return out


def _closing_clauses(t, grant: bool, option: str) -> bool:
    """The end of a GRANT / REVOKE: [WITH <option> OPTION] (GRANT), [GRANTED BY role], [CASCADE |
    RESTRICT] (REVOKE), then nothing; whether the option was given."""
    given = False
    if grant and t.take("WITH"):
        t.expect(option)
        t.expect("OPTION")
        given = True
    if t.take("GRANTED"):
        t.expect("BY")
        t.name()
    if not grant:
        t.take("CASCADE", "RESTRICT")
    t.done()
    return given


def run_grant(session: SqlSession, sql: str):
    from sql.engine import Result

    catalog = session.storage.catalog
    t = _Tokens(sql)
    verb = t.expect("GRANT", "REVOKE")
    grant = verb == "GRANT"
    option_for = False
    if not grant and t.peek() in ("GRANT", "ADMIN") and t.peek(1) == "OPTION":
        t.i += 2
        t.expect("FOR")
        option_for = True
    # GRANT role TO role: no ON
    save = t.i
    is_membership = True
    depth = 0
    while not t.at_end():
        w = t.peek()
        if w == "ON" and depth == 0:
            is_membership = False
            break
        if w in ("TO", "FROM"):
            break
        depth += w == "("
        depth -= w == ")"
        t.i += 1
    t.i = save
    if is_membership:
        return _grant_membership(session, t, grant, option_for)
    privs = _privilege_list(t)
    t.expect("ON")
    kind, objects = _objects(session, t)
    t.expect("TO" if grant else "FROM")
    grantees = _grantees(session, t)
    _closing_clauses(t, grant, "GRANT")
    superuser = session.is_superuser()
    for key, okind, label in objects:
        letters = _letters(privs, okind if kind == "table" else kind)
        a = acl(catalog, key)
        owner = a.owner_name()
        if not superuser and owner not in effective_roles(catalog, session.user):
            # grant options are not kept: only an owner grants. PostgreSQL's WARNING when the user
            # holds some privilege on it, its error when none
            if not privileges_of(a, okind, effective_roles(catalog, session.user)):
                raise E.InsufficientPrivilege(f"permission denied for {KIND_WORD[okind]} {label}")
            what = "granted" if grant else "revoked"
            warning = E.PrivilegeNotGranted if grant else E.PrivilegeNotRevoked
            session.notice(warning(f'no privileges {"were" if grant else "could be"} {what} for "{label}"'))
            continue
        if option_for:
            continue  # (grant options are not kept: nothing to take back)
        if a.items is None:
            a.items = [[owner, ALL_OF[okind], owner]]
            if DEFAULT_PUBLIC[okind]:
                a.items.append(["", DEFAULT_PUBLIC[okind], owner])
        for grantee in grantees:
            item = next((i for i in a.items if i[0] == grantee and i[2] == owner), None)
            if grant:
                if item is None:
                    a.items.append([grantee, _order(letters, okind), owner])
                else:
                    item[1] = _order(item[1] + letters, okind)
            else:
                for i in a.items:
                    if i[0] == grantee:
                        i[1] = "".join(c for c in i[1] if c not in letters)
                a.items = [i for i in a.items if i[1]]
        save_acl(catalog, key, a)
    session.sql_engine.roles_changed()
    return Result(None, tag=verb)


def _grant_membership(session: SqlSession, t: _Tokens, grant: bool, option_for: bool):
    from sql.engine import Result

    catalog = session.storage.catalog
    granted = []
    for name in _name_list(t):
        name = _role_spec(session, name)
        if not _role_exists(catalog, name):
            raise E.UndefinedObject(f'role "{name}" does not exist')
        granted.append(name)
    t.expect("TO" if grant else "FROM")
    members = []
    for name in _name_list(t):
        if name == "public":
            raise E.UndefinedObject('role "public" does not exist')
        name = _role_spec(session, name)
        if not _role_exists(catalog, name):
            raise E.UndefinedObject(f'role "{name}" does not exist')
        members.append(name)
    admin = _closing_clauses(t, grant, "ADMIN")
    current = {(p, m): (a, g) for p, m, a, g in memberships(catalog)}
    for parent in granted:
        if not session.is_superuser():
            r = role(catalog, session.user)
            if (r is None or not r.createrole) and not current.get((parent, session.user), (False,))[0]:
                raise E.InsufficientPrivilege(f'must have admin option on role "{parent}"')
            pr = role(catalog, parent)
            if parent == BOOTSTRAP or (pr is not None and pr.superuser):
                raise E.InsufficientPrivilege("must be superuser to alter superusers")
        for member in members:
            if grant:
                if member == parent:
                    raise E.InvalidGrantOperation(f'role "{member}" is a member of role "{parent}"')
                if member in _ancestors(catalog, parent):
                    raise E.InvalidGrantOperation(f'role "{parent}" is a member of role "{member}"')
                if (parent, member) in current:
                    if admin and not current[(parent, member)][0]:
                        _add_member(catalog, parent, member, session.user, True)
                    else:
                        session.notice(E.Notice_(f'role "{member}" is already a member of role "{parent}"'))
                    continue
                _add_member(catalog, parent, member, session.user, admin)
            else:
                if (parent, member) not in current:
                    session.notice(E.Warning_(f'role "{member}" is not a member of role "{parent}"'))
                    continue
                if option_for:
                    _add_member(catalog, parent, member, current[(parent, member)][1], False)
                else:
                    catalog.set_meta(MEMBER_PREFIX + json.dumps([parent, member]), None)
    session.sql_engine.roles_changed()
    return Result(None, tag="GRANT ROLE" if grant else "REVOKE ROLE")


def run_owner(session: SqlSession, sql: str):
    from sqlglot import exp

    from sql import sequences
    from sql.engine import Result
    from sql.privileges import target

    catalog = session.storage.catalog
    t = _Tokens(sql)
    t.expect("ALTER")
    what = t.expect("TABLE", "VIEW", "SCHEMA")
    if_exists = False
    if what != "SCHEMA" and t.take("IF"):
        t.expect("EXISTS")
        if_exists = True
    if what != "SCHEMA":
        t.take("ONLY")
    schema, name = (None, t.name()) if what == "SCHEMA" else _qualified_name(t)
    t.expect("OWNER")
    t.expect("TO")
    new = _role_spec(session, t.name())
    t.done()
    if what == "SCHEMA":
        _require_schema(session, name)
        key, kind, label = schema_key(session.database, name), "schema", name
    else:
        ref = exp.Table(this=exp.to_identifier(name), db=exp.to_identifier(schema) if schema else None)
        found = target(session, ref)
        label = f"{schema}.{name}" if schema else name
        if found is None and what == "TABLE" and sequences.exists(session, schema or "public", name):
            unchanged_owner(session, new, "a sequence")  # ALTER TABLE works on sequences too
            return Result(None, tag="ALTER TABLE")
        if found is None or (what == "VIEW" and found[1] != "view"):
            if if_exists:
                session.notice(E.Notice_(f'relation "{label}" does not exist, skipping'))
                return Result(None, tag=f"ALTER {what}")
            raise E.UndefinedTable(f'relation "{label}" does not exist')
        key, kind, label = found
    if not _role_exists(catalog, new):
        raise E.UndefinedObject(f'role "{new}" does not exist')
    a = acl(catalog, key)
    old = a.owner_name()
    if not session.is_superuser():
        mine = effective_roles(catalog, session.user)
        if old not in mine:
            raise E.InsufficientPrivilege(f"must be owner of {KIND_WORD[kind]} {label}")
        if new not in mine:
            raise E.InsufficientPrivilege(f'must be able to SET ROLE "{new}"')
    if new != old:
        a.owner = None if new == BOOTSTRAP else new
        if a.items is not None:  # the old owner's entries pass to the new one, as PostgreSQL's aclnewowner
            merged: dict[tuple[str, str], str] = {}
            for grantee, privs, grantor in a.items:
                k = (new if grantee == old else grantee, new if grantor == old else grantor)
                merged[k] = _order(merged.get(k, "") + privs, kind)
            a.items = [[g, p, gr] for (g, gr), p in merged.items()]
        save_acl(catalog, key, a)
        session.sql_engine.roles_changed()
    return Result(None, tag=f"ALTER {what}")


def unchanged_owner(session: SqlSession, new: str, what: str) -> None:
    """OWNER TO for an object whose owner tsgres does not keep (sequences, enum types: the bootstrap
    superuser's): accepted when it names that owner, as pg_dump's output does; 0A000 otherwise."""
    new = _role_spec(session, new)
    if not _role_exists(session.storage.catalog, new):
        raise E.UndefinedObject(f'role "{new}" does not exist')
    if new != BOOTSTRAP:
        raise E.FeatureNotSupported(
            f"changing the owner of {what} is not supported (its owner is {BOOTSTRAP})"
        )


def _ancestors(catalog, parent: str) -> set[str]:
    """The roles ``parent`` is a member of, directly or not (granting ``parent`` to one of them would
    make a loop)."""
    members = memberships(catalog)
    out: set[str] = set()
    todo = [parent]
    while todo:
        r = todo.pop()
        for p, m, _a, _g in members:
            if m == r and p not in out:
                out.add(p)
                todo.append(p)
    return out
