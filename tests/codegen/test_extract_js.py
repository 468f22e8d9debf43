"""JavaScript/TypeScript memory entries (software-system generation)."""

from __future__ import annotations

from deepcode_tui.codegen.memory import extract_entry

PROJECT = [
    "src/api.ts",
    "src/models/user.ts",
    "src/models/index.ts",
    "src/util.js",
    "src/app.tsx",
    "server/index.js",
    "server/db.js",
]

API_TS = """import { User, Role as R } from './models/user';
import * as util from '../src/util';
import type { Config } from './models';
import express from 'express';
import fs from 'node:fs';
export * from './models/user';

export interface Repo<T> extends Base {
  find(id: string): Promise<T | undefined>;
  count: number;
}

export type Id = string | number;
export enum Color { Red, Green = 2 }

export async function fetchUser(id: Id, opts?: RequestInit, retries = 3, ...rest: string[]): Promise<User> {
  const u = new User(id, 'x');
  util.log(u, 2);
  return u;
}

export const VERSION = '1.2';
export const add = (a: number, b: number): number => a + b;

export default class Client extends Base implements Repo<User> {
  private secret: string;
  constructor(public baseUrl: string, timeout?: number) { super(); }
  static create(url: string): Client { return new Client(url); }
  get ready(): boolean { return true; }
  async get(path: string): Promise<Response> { return fetch(path); }
  #hidden() {}
  private internal() {}
  _alsoHidden() {}
}

function localOnly(x) { return x; }
export { localOnly as exposed };
"""

SERVER_JS = """const { connect, close: shutdown } = require('./db');
const path = require('path');
const db = require('./db');

function start(port, host = 'localhost') {
  connect(port);
  db.query('select 1', 2);
  return shutdown;
}

module.exports = { start, stop: () => shutdown(), VERSION: '1' };
"""


def test_typescript_exports_and_signatures():
    e = extract_entry("src/api.ts", API_TS, project_files=PROJECT)
    iface = e.interface
    assert e.language == "typescript" and not e.parse_error
    fns = {f.name: f for f in iface.functions}
    assert set(fns) == {"fetchUser", "add", "exposed"}
    assert fns["fetchUser"].signature("typescript") == (
        "(id: Id, opts?: RequestInit, retries = 3, ...rest: string[]): Promise<User>"
    )
    assert fns["fetchUser"].is_async
    assert fns["add"].signature("typescript") == "(a: number, b: number): number"
    classes = {c.name: c for c in iface.classes}
    assert set(classes) == {"Repo", "Color", "Client"}
    repo = classes["Repo"]
    assert repo.kind == "interface" and repo.bases == ["Base"] and [m.name for m in repo.methods] == ["find"]
    assert [f.name for f in repo.fields] == ["count"]
    client = classes["Client"]
    assert client.bases == ["Base", "Repo<User>"]
    assert [m.name for m in client.methods] == ["constructor", "create", "ready", "get"]
    assert client.method("create").kind == "staticmethod" and client.method("ready").kind == "property"
    assert classes["Color"].kind == "enum" and [f.name for f in classes["Color"].fields] == ["Red", "Green"]
    consts = {k.name: k for k in iface.constants}
    assert consts["VERSION"].value == "'1.2'" and consts["Id"].annotation == "type"
    assert set(iface.all_names) == {
        "Repo",
        "Id",
        "Color",
        "fetchUser",
        "VERSION",
        "add",
        "default",
        "exposed",
    }
    assert iface.star_from == ["src/models/user.ts"]


def test_typescript_imports_and_uses():
    e = extract_entry("src/api.ts", API_TS, project_files=PROJECT)
    edges = {(i.module, i.name): i for i in e.imports}
    assert (
        edges[("./models/user", "Role")].alias == "R"
        and edges[("./models/user", "Role")].file == "src/models/user.ts"
    )
    assert edges[("../src/util", "*")].file == "src/util.js"
    assert edges[("./models", "Config")].file == "src/models/index.ts"
    assert edges[("express", "default")].kind == "external" and edges[("node:fs", "default")].kind == "stdlib"
    assert e.external == ["express"]
    assert e.depends_on == ["src/models/user.ts", "src/util.js", "src/models/index.ts"]
    uses = {(u.symbol, u.member): u for u in e.uses}
    new_user = uses[("User", None)]
    assert new_user.is_new and new_user.call.positional == 2 and new_user.file == "src/models/user.ts"
    assert uses[("log", None)].file == "src/util.js" and uses[("log", None)].call.positional == 2


def test_commonjs_exports_require_and_uses():
    e = extract_entry("server/index.js", SERVER_JS, project_files=PROJECT)
    assert e.language == "javascript"
    assert set(e.interface.all_names) == {"start", "stop", "VERSION"}
    start = next(f for f in e.interface.functions if f.name == "start")
    assert start.signature("javascript") == "(port, host = 'localhost')"
    edges = [(i.module, i.name, i.alias, i.kind) for i in e.imports]
    assert ("./db", "connect", None, "project") in edges and ("./db", "close", "shutdown", "project") in edges
    assert ("path", None, "path", "stdlib") in edges and ("./db", None, "db", "project") in edges
    uses = sorted((u.symbol, u.call.positional if u.call else None) for u in e.uses)
    assert ("connect", 1) in uses and ("query", 2) in uses and ("close", 0) in uses


def test_commonjs_module_exports_function_is_dynamic():
    e = extract_entry("server/db.js", "module.exports = function connect(url) {};\n", project_files=PROJECT)
    assert e.interface.dynamic and "default" in e.interface.all_names


def test_tsx_file_parses():
    code = (
        "import React from 'react';\nexport function App(props: { name: string }) {\n"
        "  return <div>{props.name}</div>;\n}\n"
    )
    e = extract_entry("src/app.tsx", code, project_files=PROJECT)
    assert e.language == "tsx" and not e.parse_error and [f.name for f in e.interface.functions] == ["App"]
    assert e.external == ["react"]
