/** Modules and the app choice (DSL.md §2.3): merge-modules (DZ2006, DZ2010, DZ2011) and check-modules (DZ2007), exact rendered output. */
import { analyze } from "../../compile";
import { renderDiagnostics } from "../../diagnostics/render";
import { makeSourceFile } from "../../diagnostics/span";

/** The rendered diagnostics of a directory project whose code starts with one of `codes`. */
const rendered = (files: Record<string, string>, root: string, codes: readonly string[]) => {
  const input = { files: Object.entries(files).map(([p, t]) => makeSourceFile(p, t)), rootModule: root, fallbackName: "shop", specName: "dazzle.toml" };
  const result = analyze(input);
  return renderDiagnostics(result.diagnostics.filter((d) => codes.some((c) => d.code.startsWith(c))), result.sources);
};

describe("check-modules", () => {
  test("DZ2007 for a ref, an FK path hop and a via junction into a module the file does not `use`, once per file and entity", () => {
    const files = {
      "dsl/a.dsl":
        'module shop.core\nuse shop.people\napp shop "Shop"\nentity Order:\n  buyer: ref Person\n  item: ref Item\n  permit:\n    read: authenticated\n' +
        '  scope:\n    read: item.maker.name = "x"\n      as: *\n    list: via Grant(order = id, user = current_user)\n      as: *\n',
      "dsl/b.dsl": "module shop.people\nentity Person:\n  name: text\n",
      "dsl/c.dsl": "module shop.catalog\nentity Item:\n  maker: ref Maker\n  other: ref Maker\nentity Maker:\n  name: text\nentity Grant:\n  order: ref Order\n  user: ref Person\n",
    };
    expect(rendered(files, "shop.core", ["DZ2007"])).toBe(
      "warning[DZ2007]: entity Item belongs to module `shop.catalog`, which module `shop.core` does not `use`\n --> dsl/a.dsl:6:13\n  |\n6 |   item: ref Item\n  |             ^^^^\n" +
        "  = help: add `use shop.catalog` to the header of this file\n\n" +
        "warning[DZ2007]: entity Maker belongs to module `shop.catalog`, which module `shop.core` does not `use`\n  --> dsl/a.dsl:10:16\n   |\n10 |     read: item.maker.name = \"x\"\n   |                ^^^^^\n" +
        "   = help: add `use shop.catalog` to the header of this file\n\n" +
        "warning[DZ2007]: entity Grant belongs to module `shop.catalog`, which module `shop.core` does not `use`\n  --> dsl/a.dsl:12:15\n   |\n12 |     list: via Grant(order = id, user = current_user)\n   |               ^^^^^\n" +
        "   = help: add `use shop.catalog` to the header of this file\n\n" +
        "warning[DZ2007]: entity Order belongs to module `shop.core`, which module `shop.catalog` does not `use`\n --> dsl/c.dsl:8:14\n  |\n8 |   order: ref Order\n  |              ^^^^^\n" +
        "  = help: add `use shop.core` to the header of this file\n\n" +
        "warning[DZ2007]: entity Person belongs to module `shop.people`, which module `shop.catalog` does not `use`\n --> dsl/c.dsl:9:13\n  |\n9 |   user: ref Person\n  |             ^^^^^^\n" +
        "  = help: add `use shop.people` to the header of this file\n",
    );
  });

  test("a single file, or modules that `use` each other, get no DZ2007", () => {
    const files = { "dsl/a.dsl": "module a\nuse b\napp a\nentity A:\n  b: ref B\n", "dsl/b.dsl": "module b\nuse a\nentity B:\n  a: ref A\n" };
    expect(rendered(files, "a", ["DZ2007"])).toBe("");
  });
});

describe("merge-modules", () => {
  test("an unknown `use` and a module declared by two files are DZ2006; a missing root module is DZ2010", () => {
    const files = { "dsl/a.dsl": "module shop\nuse shop.missing\nentity A:\n  n: int\n", "dsl/b.dsl": 'module shop\napp other "Other"\nentity B:\n  n: int\n' };
    expect(rendered(files, "main", ["DZ2006", "DZ2010", "DZ2011"])).toBe(
      "error[DZ2010]: root module `main` (dazzle.toml) is declared by no file\n\n" +
        "error[DZ2006]: `use shop.missing`: no file declares module `shop.missing`\n --> dsl/a.dsl:2:1\n  |\n2 | use shop.missing\n  | ^^^^^^^^^^^^^^^^\n\n" +
        "error[DZ2006]: module `shop` is declared by two files (dsl/a.dsl and dsl/b.dsl)\n --> dsl/b.dsl:1:1\n  |\n1 | module shop\n  | ^^^^^^^^^^^\n",
    );
  });

  test("DZ2011 when the root module has no `app` (the first one is used) and when there is none at all", () => {
    const other = { "dsl/a.dsl": "module shop\nentity A:\n  n: int\n", "dsl/b.dsl": 'module other\napp other "Other"\n' };
    expect(rendered(other, "shop", ["DZ2011"])).toBe(
      "warning[DZ2011]: the root module declares no `app`; using the first `app` in file order\n --> dsl/b.dsl:2:1\n  |\n2 | app other \"Other\"\n  | ^^^^^^^^^^^^^^^^^\n",
    );
    expect(rendered({ "dsl/a.dsl": "module shop\nentity A:\n  n: int\n" }, "shop", ["DZ2011"])).toBe("warning[DZ2011]: no `app` declaration; the app is named `shop`\n");
  });
});
