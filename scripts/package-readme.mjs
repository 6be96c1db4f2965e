// Writes pkg/README.md: README.md with its links rewritten to
// absolute URLs: npm shows the file without the repository around it, so
// `PROTOCOL.md`, `docs/demo.png`, `examples/` and `#anchors` would point
// nowhere. Run by scripts/build-pkg; scripts/check-readme.mjs verifies it.
import { readFileSync, writeFileSync } from "node:fs";

const REPOSITORY = "https://github.com/resocket/resocket";
const path = "pkg/README.md";
let readme = readFileSync("README.md", "utf8");
let rewritten = 0;
readme = readme.replace(/(!?)\[([^\]]*)\]\(([^)\s]+)\)/g, (whole, image, label, target) => {
  if (/^https?:\/\//.test(target)) return whole;
  rewritten++;
  const url = target.startsWith("#")
    ? `${REPOSITORY}${target}`
    : image
      ? `https://raw.githubusercontent.com/resocket/resocket/main/${target}`
      : `${REPOSITORY}/blob/main/${target}`;
  return `${image}[${label}](${url})`;
});
writeFileSync(path, readme);
console.log(`    pkg/README.md: ${rewritten} links made absolute`);
