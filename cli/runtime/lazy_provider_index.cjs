// Loaded into the jsii Node.js runtime with `node --require` (NODE_OPTIONS), before any
// package. It makes the index of each prebuilt cdktf provider package lazy.
//
// Why: `@cdktf/provider-aws/lib/index.js` requires all ~2,200 resource modules up front
// (about 2 s and 600 MiB of every synth), while a stack uses a few dozen. The index is a
// list of lines of one shape, `exports.vpc = require("./vpc");`. Each such line becomes a
// getter that requires its module on first access and then replaces itself with the
// value, so the jsii kernel, which reaches a type through `exports.<submodule>`, loads
// only the modules whose types the stack uses. Nothing else in the package changes.
//
// Robust by construction: an index of any other shape (a require that is not such a
// line, or no such line at all) is loaded exactly as written (eagerly), and the runtime
// says so once on stderr. ML_PLATFORM_LAZY_NODE_MODULES=0 turns the rewrite off.
"use strict";

const fs = require("fs");
const Module = require("module");

const PROVIDER_INDEX = /[\\/]@cdktf[\\/]provider-[^\\/]+[\\/]lib[\\/]index\.js$/;
const REQUIRE_LINE = /^exports\.([A-Za-z_$][\w$]*) = require\("(\.\/[^"\\]+)"\);$/;
const SWITCH = "ML_PLATFORM_LAZY_NODE_MODULES";
const OFF = new Set(["0", "false", "no", "off"]);

// Defined inside each rewritten index: a property that loads its module on first read.
const LAZY_HELPER =
  "function __lazyExport(target, name, load) {" +
  " Object.defineProperty(target, name, { configurable: true, enumerable: true," +
  " get() { const value = load();" +
  " Object.defineProperty(target, name, { configurable: true, enumerable: true, writable: true, value });" +
  " return value; } }); }";

/** The lazy form of an index, or null when the index does not have the expected shape. */
function lazyIndex(source) {
  const lines = source.split("\n");
  let rewritten = 0;
  const out = lines.map((line) => {
    const match = REQUIRE_LINE.exec(line.trim());
    if (!match) return line;
    rewritten += 1;
    return `__lazyExport(exports, ${JSON.stringify(match[1])}, () => require(${JSON.stringify(match[2])}));`;
  });
  const requires = (source.match(/\brequire\(/g) || []).length;
  if (rewritten === 0 || rewritten !== requires) return null;
  return `${LAZY_HELPER}\n${out.join("\n")}`;
}

let warned = false;
function warnOnce(filename) {
  if (warned) return;
  warned = true;
  const where = filename.split(/[\\/]/).slice(-4).join("/");
  process.stderr.write(
    `note: ${where} does not have the shape the lazy provider loading expects; ` +
      "its modules load eagerly (the synth is the same, only slower)\n",
  );
}

const enabled = !OFF.has(String(process.env[SWITCH] || "1").trim().toLowerCase());
if (enabled) {
  const loadJs = Module._extensions[".js"];
  Module._extensions[".js"] = function loadProviderIndexLazily(module, filename) {
    if (!PROVIDER_INDEX.test(filename)) return loadJs(module, filename);
    const lazy = lazyIndex(fs.readFileSync(filename, "utf8"));
    if (lazy === null) {
      warnOnce(filename);
      return loadJs(module, filename);
    }
    return module._compile(lazy, filename);
  };
}

module.exports = { lazyIndex };
