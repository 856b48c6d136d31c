"""Symbol index: definitions across files, outline structure, incremental updates, background build."""

import os

from nextedit.context.symbols import SymbolIndex, extract_symbols

from .conftest import write_tree


def _kinds(symbols):
    return {(s.name, s.kind) for s in symbols}


def test_index_finds_definitions_across_files(shop_tree):
    index = SymbolIndex(shop_tree).build()
    assert index.paths() == ["pkg/__init__.py", "pkg/models.py", "pkg/shop.py"]
    (item,) = index.definitions("Item")
    assert (item.path, item.kind, item.start_row, item.end_row) == ("pkg/models.py", "class", 3, 11)
    text = (shop_tree / "pkg/models.py").read_bytes()
    assert text[item.start : item.header_end] == b"class Item:"
    assert text[item.name_start : item.name_end] == b"Item"
    (restock,) = index.definitions("restock")
    assert restock.kind == "method" and index.file_symbols("pkg/models.py")[restock.parent].name == "Item"
    assert index.definitions("sell")[0].path == "pkg/shop.py"
    assert index.definitions("nope") == []


def test_update_reindexes_changed_files_only(shop_tree):
    index = SymbolIndex(shop_tree).build()
    parsed = index.parsed_files
    assert index.update(["pkg/models.py", "pkg/shop.py"]) == 0  # nothing changed
    p = shop_tree / "pkg/shop.py"
    p.write_text(p.read_text() + "\n\ndef refund(item):\n    return item\n")
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert index.update(["pkg/shop.py"]) == 1
    assert index.parsed_files == parsed + 1
    assert [s.path for s in index.definitions("refund")] == ["pkg/shop.py"]
    # deletion and a new file (update(None) rescans the tree)
    (shop_tree / "pkg/models.py").unlink()
    write_tree(shop_tree, {"pkg/extra.py": "class Extra:\n    pass\n"})
    index.update()
    assert index.definitions("Item") == [] and index.definitions("Extra")[0].path == "pkg/extra.py"


def test_skips_vendored_ignored_and_virtualenv_dirs(tmp_path):
    root = write_tree(
        tmp_path / "r",
        {
            "a.py": "def keep(): pass\n",
            "node_modules/m/index.js": "function vendored() {}\n",
            "env/pyvenv.cfg": "home = /usr\n",
            "env/lib/x.py": "def in_venv(): pass\n",
            "gen/out.py": "def generated(): pass\n",
            ".gitignore": "gen/\n*.tmp.py\n",
            "b.tmp.py": "def ignored(): pass\n",
            "bin.py": "def binary(): pass\n\0\0",
        },
    )
    index = SymbolIndex(root).build()
    assert index.paths() == ["a.py", "bin.py"]
    assert index.definitions("keep") and not index.definitions("binary")


def test_background_build_and_cache(shop_tree, tmp_path):
    index = SymbolIndex(shop_tree, cache_dir=tmp_path / "cache").start()
    assert index.wait(30) and index.ready
    assert index.definitions("Item")
    again = SymbolIndex(shop_tree, cache_dir=tmp_path / "cache").build()
    assert again.parsed_files == 0 and again.definitions("make_item")  # everything from the cache


def test_outline_of_other_languages():
    rs = b"pub struct Foo { a: u32 }\nimpl Foo {\n    pub fn new() -> Self { Foo { a: 1 } }\n}\n"
    assert _kinds(extract_symbols(rs, "a.rs")) == {("Foo", "struct"), ("Foo", "impl"), ("new", "method")}
    go = b"package a\ntype S struct {\n  A int\n}\nfunc (s *S) M() {}\nfunc F() {}\n"
    assert _kinds(extract_symbols(go, "a.go")) == {("S", "struct"), ("M", "method"), ("F", "function")}
    ts = b"export interface I { a: string }\nexport class C { m(): void {} }\ntype T = number;\n"
    assert _kinds(extract_symbols(ts, "a.ts")) == {("I", "interface"), ("C", "class"), ("m", "method"), ("T", "type")}
    tsx = ts + b"export function App() { return <div>{1}</div>; }\n"  # tsx reuses the typescript query
    assert _kinds(extract_symbols(tsx, "a.tsx")) == _kinds(extract_symbols(ts, "a.ts")) | {("App", "function")}
    java = b"class A { int f; void m() {} }\n"
    assert _kinds(extract_symbols(java, "A.java")) == {("A", "class"), ("f", "field"), ("m", "method")}
    c = b"#define N 3\nstruct S { int a; };\nstatic int *f(int x) { return 0; }\n"
    assert _kinds(extract_symbols(c, "a.c")) == {("N", "const"), ("S", "struct"), ("f", "function")}
    cpp = b"namespace n { class C { void m() {} }; }\n"
    assert _kinds(extract_symbols(cpp, "a.cpp")) == {("n", "module"), ("C", "class"), ("m", "method")}
    js = b"class A { m() {} }\nconst x = () => 1;\n"
    assert _kinds(extract_symbols(js, "a.js")) == {("A", "class"), ("m", "method"), ("x", "variable")}


def test_python_header_excludes_body_and_decorators_belong_to_item():
    src = b"@dec\ndef f(x):\n    return x\n"
    (f,) = extract_symbols(src, "a.py")
    assert (f.start, f.start_row, f.header_end_row, f.end_row) == (0, 0, 1, 2)
    assert src[f.start : f.header_end] == b"@dec\ndef f(x):"


def test_many_definitions_in_one_file():
    src = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(3000)).encode()
    syms = extract_symbols(src, "big.py")
    assert [s.name for s in syms[:3]] == ["f0", "f1", "f2"] and len(syms) == 3000
    assert syms[-1].start_row == 3 * 2999 and all(s.parent == -1 for s in syms)


def test_unchanged_content_is_not_reparsed_in_another_tree(tmp_path):
    files = {"a.py": "def shared_name_xyz():\n    pass\n", "b.py": "class Other_xyz:\n    pass\n"}
    first = SymbolIndex(write_tree(tmp_path / "rev1", files)).build()
    assert first.parsed_files == 2  # unique content → parsed
    files["b.py"] = "class Other_xyz:\n    x = 1\n"
    second = SymbolIndex(write_tree(tmp_path / "rev2", files)).build()
    assert second.parsed_files == 1  # only the changed file
    assert second.definitions("shared_name_xyz")[0].path == "a.py"


def test_more_languages_have_definitions():
    kt = b"class A {\n    fun m(x: Int): Int {\n        return x\n    }\n}\n"
    (a, m) = extract_symbols(kt, "a.kt")
    assert (a.name, m.name, m.kind, m.parent) == ("A", "m", "method", 0)
    assert kt[m.start : m.header_end] == b"fun m(x: Int): Int"
    php = b"<?php\nclass A { function m() {} }\nfunction f() {}\n"
    assert _kinds(extract_symbols(php, "a.php")) == {("A", "class"), ("m", "method"), ("f", "function")}
    assert _kinds(extract_symbols(b"function M.h() end\n", "a.lua")) == {("h", "function")}
    assert _kinds(extract_symbols(b"f() { echo; }\n", "a.sh")) == {("f", "function")}


def test_parallel_build_matches_serial(tmp_path):
    files = {f"m{i}.py": f"class Par_{i}_unique:\n    def meth_{i}(self):\n        return {i}\n" for i in range(12)}
    root = write_tree(tmp_path / "par", files)
    par = SymbolIndex(root, workers=2).build()
    assert par.parsed_files == 12
    ser = SymbolIndex(root).build()  # served from the content cache filled by the workers
    assert ser.parsed_files == 0
    for i in range(12):
        (a,) = par.definitions(f"meth_{i}")
        (b,) = ser.definitions(f"meth_{i}")
        assert a == b and a.kind == "method"
