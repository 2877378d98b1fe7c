// Render LaTeX formulas with KaTeX, for tests/test_latex.py.
//
//   node tests/katex_render.js /path/to/node_modules/katex < formulas.json
//
// stdin: a JSON list of formulas (math mode, no $).  stdout: a JSON list with, per formula, null when
// katex.renderToString accepted it (throwOnError, strict LaTeX compatibility), else the error message.
"use strict";
const katex = require(process.argv[2] || "katex");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const results = JSON.parse(input).map((tex) => {
    try {
      katex.renderToString(tex, { throwOnError: true, displayMode: true, strict: "error" });
      return null;
    } catch (error) {
      return String(error && error.message ? error.message : error);
    }
  });
  process.stdout.write(JSON.stringify(results));
});
