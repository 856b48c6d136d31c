"""Related definitions (LSP emulation) and the BM25 fallback."""

from nextedit.context.bm25 import Bm25Index, chunk_file, terms
from nextedit.context.builder import build_request
from nextedit.context.related import identifiers_near_cursor, related_definitions
from nextedit.context.symbols import SymbolIndex, extract_symbols
from nextedit.context.syntax import parse

from .conftest import SHOP, write_tree


def test_identifiers_ranked_by_distance_with_shared_ranks():
    text = b"a = 1\nfoo(bar, baz)\nz = 2\n"
    cursor = text.index(b"bar")
    ids = identifiers_near_cursor(text, cursor, tree=parse(text, "a.py"))
    by_name = {i.name: i for i in ids}
    assert by_name["bar"].distance == 0 and by_name["bar"].rank == 0
    assert by_name["foo"].distance == 1  # "foo(" ends one byte before "bar"
    assert ids == sorted(ids, key=lambda i: i.distance)
    ranks = [i.rank for i in ids]
    assert ranks == sorted(ranks) and len(set(ranks)) == len({i.distance for i in ids})


def test_identifier_window_and_limit():
    text = ("".join(f"v{i} = w{i}\n" for i in range(40))).encode()
    cursor = text.index(b"v20")
    ids = identifiers_near_cursor(text, cursor, tree=parse(text, "a.py"))
    names = {i.name for i in ids}
    assert names == {f"{p}{i}" for p in "vw" for i in range(17, 24)}  # rows cursor±3 only
    assert len(identifiers_near_cursor(text, cursor, tree=parse(text, "a.py"), limit=5)) == 5


def test_enclosing_signature_identifiers_are_included():
    text = b"def f(a: Alpha) -> Beta:\n" + b"    x = 1\n" * 10 + b"    return x\n"
    cursor = text.rindex(b"return")
    tree = parse(text, "a.py")
    ids = identifiers_near_cursor(text, cursor, tree=tree, outline=extract_symbols(text, "a.py"))
    assert {"Alpha", "Beta", "f"} <= {i.name for i in ids}


def test_class_from_other_file_becomes_related(shop_tree):
    index = SymbolIndex(shop_tree).build()
    cursor = SHOP.index("item.count -=")
    files = related_definitions(shop_tree, "pkg/shop.py", SHOP, cursor, index)
    paths = [f.path for f in files]
    assert "shop/pkg/models.py" in paths
    models = files[paths.index("shop/pkg/models.py")]
    texts = [e.text for e in models.excerpts]
    assert any(t.startswith("class Item:\n") and "def restock" in t for t in texts)
    assert any(t.startswith("def make_item(name):") for t in texts)
    model_lines = (shop_tree / "pkg/models.py").read_text().split("\n")
    for e in models.excerpts:  # row ranges (end exclusive) match the text
        assert e.text == "\n".join(model_lines[e.row_range.start : e.row_range.end]) + "\n"
        assert e.context_source == "lsp"
    assert models.max_row == len(model_lines) - 1
    orders = [min(e.order for e in f.excerpts) for f in files]
    assert orders == sorted(orders)


def test_large_items_show_signatures_not_bodies(tmp_path):
    body = "".join(f"        self.f{i} = {i}\n" for i in range(40))
    big = f"class Big:\n    def __init__(self):\n{body}\n    def small(self):\n        return 1\n"
    root = write_tree(tmp_path / "r", {"big.py": big, "use.py": "from big import Big\n\nb = Big()\n"})
    index = SymbolIndex(root).build()
    use = (root / "use.py").read_text()
    files = related_definitions(root, "use.py", use, use.index("Big()"), index)
    (bigf,) = [f for f in files if f.path.endswith("big.py")]
    shown = "".join(e.text for e in bigf.excerpts)
    assert "class Big:" in shown and "def __init__(self):" in shown and "def small(self):" in shown
    assert "self.f5 = 5" not in shown  # the >512-byte body is elided
    assert len(bigf.excerpts) >= 2  # a gap between the signatures ("..." at render time)


def test_ambiguous_unrelated_names_are_skipped(tmp_path):
    files = {f"m{i}.py": "def get():\n    return 1\n" for i in range(6)}
    files["main.py"] = "x = get()\n"
    root = write_tree(tmp_path / "r", files)
    index = SymbolIndex(root).build()
    main = (root / "main.py").read_text()
    files = related_definitions(root, "main.py", main, main.index("get"), index)
    assert [f.path for f in files] == ["r/main.py"]  # only `x` itself; `get` is too ambiguous
    write_tree(root, {"main.py": "from m3 import get\nx = get()\n"})
    index.update(["main.py"])
    main = (root / "main.py").read_text()
    files = related_definitions(root, "main.py", main, main.index("get()"), index)
    assert "r/m3.py" in [f.path for f in files] and "r/m0.py" not in [f.path for f in files]


def test_bm25_terms_and_chunks():
    assert terms("parseHttpRequest(user_id)") == ["parsehttprequest", "parse", "http", "request", "user_id", "user", "id"]
    chunks = chunk_file("a.py", "".join(f"line_{i}\n" for i in range(100)))
    assert [(c.start_row, c.end_row) for c in chunks] == [(0, 39), (40, 79), (80, 99)]


def test_bm25_fallback_when_no_definition(tmp_path):
    noise = "".join(f"def other_{i}():\n    return {i}\n" for i in range(30))
    target = "\n\ndef compute_invoice_total(order):\n    subtotal = sum(order.lines)\n    return subtotal * tax_rate\n"
    root = write_tree(
        tmp_path / "r",
        {
            "billing.py": noise + target,
            "misc.py": noise,
            "main.rb": "invoice = order.lines\nsubtotal = invoice.sum * tax_rate\n",  # unknown to the index
        },
    )
    index = SymbolIndex(root).build()
    bm25 = Bm25Index(root, ["billing.py", "misc.py"])
    text = (root / "main.rb").read_text()
    req = build_request(root, "main.rb", text.index("subtotal"), [], index=index, bm25=bm25, context="lsp")
    assert req.related_files, "BM25 should fill in when nothing resolves"
    first = req.related_files[0]
    assert first.path == "r/billing.py"
    assert all(e.context_source == "bm25" for e in first.excerpts)
    assert any("compute_invoice_total" in e.text for e in first.excerpts)


def test_bm25_excludes_cursor_rows_and_ranks(tmp_path):
    root = write_tree(tmp_path / "r", {"a.py": "alpha beta\n" * 50, "b.py": "alpha gamma\n" * 10})
    bm25 = Bm25Index(root)
    hits = bm25.search("alpha beta", k=10)
    assert hits[0].path == "a.py" and hits == sorted(hits, key=lambda h: -h.score)
    hits = bm25.search("alpha beta", k=10, exclude=[("a.py", 0, 45)])
    assert [(h.path, h.start_row) for h in hits if h.path == "a.py"] == []


def test_definitions_in_the_unsaved_buffer_are_found(shop_tree):
    index = SymbolIndex(shop_tree).build()
    buffer = SHOP + "\n\ndef audit_sale(item):\n    return item\n\n\nx = audit_sale(None)\n"
    files = related_definitions(shop_tree, "pkg/shop.py", buffer, buffer.rindex("audit_sale"), index)
    own = [f for f in files if f.path == "shop/pkg/shop.py"]
    assert own and any(e.text.startswith("def audit_sale(item):") for e in own[0].excerpts)
