// Builds the console into fieldgate/console/ (committed, shipped in the Python package):
// the three pages, one script and one stylesheet each, and the licences of every package
// bundled into them. Run with `npm run build` (or `make console`).
import { build } from "esbuild";
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";

const out = path.resolve("..", "fieldgate", "console");
await rm(out, { recursive: true, force: true });
await mkdir(path.join(out, "assets"), { recursive: true });

const result = await build({
  entryPoints: {
    graphiql: "src/graphiql.jsx",
    policy: "src/policy.js",
    privacy: "src/privacy.js",
  },
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  outdir: path.join(out, "assets"),
  define: { "process.env.NODE_ENV": '"production"' },
  loader: { ".woff2": "dataurl", ".svg": "dataurl" },
  legalComments: "none", // collected below into one file, with each package's licence
  metafile: true,
  logLevel: "info",
});

for (const page of await readdir("pages")) await copyFile(path.join("pages", page), path.join(out, page));

// Every npm package any bundle took a file from, with its version and licence text.
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (match) packages.set(match[1], path.join("node_modules", match[1]));
}
const sections = [];
for (const [name, dir] of [...packages].sort()) {
  const manifest = JSON.parse(await readFile(path.join(dir, "package.json"), "utf8"));
  const files = (await readdir(dir)).filter((f) => /^(licen[cs]e|copying)/i.test(f));
  const text = files.length ? await readFile(path.join(dir, files[0]), "utf8") : `License: ${manifest.license}`;
  sections.push(`${name}@${manifest.version} (${manifest.license})\n\n${text.trim()}\n`);
}
await writeFile(
  path.join(out, "assets", "THIRD-PARTY-LICENSES.txt"),
  "The console bundles these packages from the npm registry.\n\n" + sections.join("\n" + "=".repeat(72) + "\n\n"),
);
console.log(`console built into ${out}: ${packages.size} packages bundled`);
